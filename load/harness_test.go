// Package load is Gatehouse's load harness (make bench): it seeds a
// realistic installation — 100 tenants, 10,000 people, 1,000,000 requests,
// 100,000 grants, 1,000,000 audit events — runs the real gatehouse binary
// over it, and measures authenticated pages at rising concurrency, memory,
// and the lag of 10,000 grants expiring in the same minute. Figures are
// printed and a latency plot written to docs/; nothing here asserts a time.
package load

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/tenants"
	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

// TestMain starts the stack only when a benchmark is asked for: the
// package has no tests, and `go test ./...` should not pay for a stack.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	testenv.Main(m, testenv.Options{Vault: true}, &stack)
}

// scale is the seeded size; GATEHOUSE_LOAD_SCALE divides it (for a quick run).
func scale() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_LOAD_SCALE")); err == nil && n > 0 {
		return n
	}
	return 1
}

func exec1(b *testing.B, pool *pgxpool.Pool, sql string, args ...any) {
	b.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%v\n%s", err, sql)
	}
}

// seed writes the installation straight into PostgreSQL (the stores would
// take hours for a million rows) and returns session tokens of people of
// the first tenant, signed in through the session manager.
func seed(b *testing.B, pool *pgxpool.Pool, div int) []string {
	ctx := context.Background()
	ts := postgres.NewTenantStore(pool)
	for i := 0; i < 100; i++ {
		slug := fmt.Sprintf("org%03d", i)
		tn, _ := tenants.NewTenant(slug, "Organization "+strconv.Itoa(i), []string{slug + ".test"})
		tn.Status = tenants.StatusActive
		if err := ts.Register(ctx, tenants.Registration{Tenant: tn,
			IdP:      tenants.IdentityProvider{IssuerURL: "https://idp." + slug + ".test", ClientID: "c", ClientSecretRef: "gatehouse/idp/" + slug, Scopes: []string{"openid"}, GroupsClaim: "groups"},
			Mappings: []tenants.RoleMapping{{Group: "admins", Role: tenants.RoleTenantAdmin}, {Group: "approvers", Role: tenants.RoleApprover}, {Group: "requesters", Role: tenants.RoleRequester}},
			Binding:  tenants.StoreBinding{Kind: tenants.StoreVaultKV2, Location: "tenant-" + slug}}, "load"); err != nil {
			b.Fatal(err)
		}
	}
	policy := `{"requesters":{"roles":["requester"],"groups":null},"steps":[{"name":"team","approvers":{"roles":["approver"],"groups":null},"required":1}],` +
		`"default_duration_ns":3600000000000,"max_duration_ns":28800000000000,"justification_min":0,"ticket_pattern":"","levels":["read"],"pending_timeout_ns":86400000000000}`
	exec1(b, pool, `INSERT INTO resources (tenant_id, name, classification, store_kind, mount, path, policy, created_by)
		SELECT t.id, 'secret ' || g, (ARRAY['low','medium','high','critical'])[1 + g % 4], 'vault-kv2', 'tenant-' || t.slug, 'app/s' || g, $1::jsonb, 'load'
		FROM tenants t, generate_series(1, 10) g WHERE t.slug LIKE 'org%'`, policy)
	exec1(b, pool, `INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
		SELECT t.id, 'u' || g, 'user' || g || '@' || t.slug || '.test', 'User ' || g, '{requesters}', '{requester,approver}', now(), now()
		FROM tenants t, generate_series(1, $1::int) g WHERE t.slug LIKE 'org%'`, 10000/100/div)
	exec1(b, pool, `INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
		justification, state, policy, submitted_at, updated_at)
		SELECT r.tenant_id, r.id, 'u' || (g % 100), 'user' || (g % 100) || '@load.test', '{"subject":"x","email":"x@load.test"}'::jsonb, 'read', 3600,
		       'load', (ARRAY['expired','expired','denied','cancelled','revoked','expired','expired','expired','active','pending'])[1 + g % 10],
		       r.policy, now() - (g || ' seconds')::interval, now()
		FROM resources r, generate_series(1, $1::int) g WHERE r.created_by = 'load'`, 1_000_000/1000/div)
	exec1(b, pool, `INSERT INTO grants (request_id, tenant_id, accessor, issued_at, expires_at, ended_at)
		SELECT id, tenant_id, '', submitted_at, submitted_at + interval '1 hour', CASE WHEN state = 'active' THEN NULL ELSE submitted_at + interval '1 hour' END
		FROM requests WHERE state IN ('active', 'expired') AND justification = 'load' LIMIT $1`, 100_000/div)
	exec1(b, pool, `INSERT INTO audit_events (tenant_id, occurred_at, actor, action, target, outcome, ip, detail, chain, seq, prev_hash, hash)
		SELECT t.id, now() - (g || ' seconds')::interval, 'user' || (g % 100) || '@' || t.slug || '.test (u)',
		       (ARRAY['grant.revealed','request.submitted','request.approved','login.succeeded'])[1 + g % 4], 'x', 'success', '192.0.2.1',
		       '{}'::jsonb, 'load-' || t.slug, g, '\x00'::bytea, '\x00'::bytea
		FROM tenants t, generate_series(1, $1::int) g WHERE t.slug LIKE 'org%'`, 1_000_000/100/div)
	exec1(b, pool, "ANALYZE")
	ids := postgres.NewIdentityStore(pool, time.Now)
	sessions := identity.NewSessions(ids, time.Now, time.Hour, 12*time.Hour)
	var org000 string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = 'org000'").Scan(&org000); err != nil {
		b.Fatal(err)
	}
	var tokens []string
	for i := 0; i < 100; i++ {
		tok, err := sessions.Start(ctx, identity.Identity{TenantID: org000, TenantSlug: "org000", TenantName: "Organization 0",
			Subject: "u" + strconv.Itoa(i), Email: "user" + strconv.Itoa(i) + "@org000.test", Name: "User", Groups: []string{"requesters"},
			Roles: []tenants.Role{tenants.RoleTenantAdmin, tenants.RoleApprover, tenants.RoleRequester}, Issuer: "https://idp.org000.test", AuthTime: time.Now()}, audit.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	return tokens
}

// serve runs the gatehouse binary over dbURL and returns its URL and PID.
func serve(b *testing.B, dbURL string) (string, int) {
	bin, err := devstack.Tool("gatehouse")
	if err != nil {
		b.Fatal(err)
	}
	port, err := devstack.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "GATEHOUSE_LISTEN=127.0.0.1:"+strconv.Itoa(port), "GATEHOUSE_PUBLIC_URL="+base, "GATEHOUSE_LOG_LEVEL=warn",
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_VAULT_ADDR="+stack.Vault.Addr, "GATEHOUSE_VAULT_TOKEN="+stack.GatehouseToken(b))
	logs, _ := os.Create(filepath.Join(b.TempDir(), "gatehouse.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	if err := devstack.WaitHTTP(context.Background(), base+"/readyz", 30*time.Second); err != nil {
		b.Fatal(err)
	}
	return base, cmd.Process.Pid
}

// rssMB reads a process's resident set size.
func rssMB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

type result struct {
	clients  int
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// hammer has clients GET path with session cookies for d, and reports.
func hammer(base, path string, tokens []string, clients int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for i := 0; time.Now().Before(stop); i++ {
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: tokens[(c+i)%len(tokens)]})
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{clients: clients, errors: errs, rps: float64(len(lat)) / d.Seconds()}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}

// BenchmarkConsoleUnderLoad is the harness; run it once (-benchtime 1x).
func BenchmarkConsoleUnderLoad(b *testing.B) {
	div := scale()
	dbURL := stack.NewDatabase(b)
	pool, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	t0 := time.Now()
	tokens := seed(b, pool, div)
	fmt.Printf("seeded (scale 1/%d) in %s\n", div, time.Since(t0).Round(time.Second))
	base, pid := serve(b, dbURL)
	time.Sleep(2 * time.Second)
	idle := rssMB(pid)
	fmt.Printf("machine: %d cores; gatehouse RSS idle: %.1f MB\n", numCPU(), idle)
	var dashboard []result
	peak := idle
	for _, clients := range []int{1, 5, 10, 25, 50, 100} {
		r := hammer(base, "/", tokens, clients, 5*time.Second)
		peak = max(peak, rssMB(pid))
		dashboard = append(dashboard, r)
		fmt.Printf("dashboard  clients=%3d  %7.0f renders/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n",
			r.clients, r.rps, ms(r.p50), ms(r.p99), r.errors)
	}
	for _, path := range []string{"/approvals", "/audit"} {
		r := hammer(base, path, tokens, 50, 5*time.Second)
		peak = max(peak, rssMB(pid))
		fmt.Printf("%-10s clients= 50  %7.0f renders/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", path, r.rps, ms(r.p50), ms(r.p99), r.errors)
	}
	fmt.Printf("gatehouse RSS under load (peak sampled): %.1f MB\n", peak)
	expiryLag(b, pool, 10000/div)
	if err := os.WriteFile(filepath.Join("..", "docs", "latency.svg"), []byte(plot(dashboard)), 0o644); err != nil {
		b.Fatal(err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// expiryLag makes n grants expire in the same minute and measures how late
// each one ended (ended_at − expires_at), with the running binary's workers.
func expiryLag(b *testing.B, pool *pgxpool.Pool, n int) {
	ctx := context.Background()
	at := time.Now().Add(20 * time.Second).Truncate(time.Second)
	exec1(b, pool, `WITH picked AS (
			SELECT r.id, r.tenant_id FROM requests r JOIN grants g ON g.request_id = r.id
			WHERE r.state = 'expired' AND r.justification = 'load' LIMIT $1)
		UPDATE requests SET state = 'active', justification = 'expiry-lag' FROM picked WHERE requests.id = picked.id`, n)
	exec1(b, pool, `UPDATE grants SET ended_at = NULL, accessor = '', expires_at = $1::timestamptz + (random() * interval '59 seconds')
		FROM requests r WHERE r.id = grants.request_id AND r.justification = 'expiry-lag'`, at)
	rows, err := pool.Query(ctx, `SELECT g.tenant_id::text, g.request_id::text, g.expires_at FROM grants g JOIN requests r ON r.id = g.request_id
		WHERE r.justification = 'expiry-lag'`)
	if err != nil {
		b.Fatal(err)
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var tid, rid string
		var exp time.Time
		if err := rows.Scan(&tid, &rid, &exp); err != nil {
			b.Fatal(err)
		}
		// Each grant's own job is the backstop, scheduled as issuance
		// schedules it (postgres.FinishIssuing): the sweep ends grants.
		params = append(params, river.InsertManyParams{Args: jobs.ExpireGrantArgs{TenantID: tid, RequestID: rid},
			InsertOpts: &river.InsertOpts{ScheduledAt: exp.Add(jobs.ExpiryBackstop)}})
	}
	rows.Close()
	inserter, err := jobs.NewInserter(pool)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := inserter.InsertMany(ctx, params); err != nil {
		b.Fatal(err)
	}
	// Poll by primary key: a scan of the million requests every second
	// would load the machine being measured.
	ids := make([]string, 0, len(params))
	for _, p := range params {
		ids = append(ids, p.Args.(jobs.ExpireGrantArgs).RequestID)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var left int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM grants WHERE request_id = ANY($1::uuid[]) AND ended_at IS NULL", ids).Scan(&left); err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d grants still active 10 minutes after their expiry", left)
		}
		time.Sleep(time.Second)
	}
	var p50, p99, worst float64
	if err := pool.QueryRow(ctx, `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag)
		FROM (SELECT extract(epoch FROM g.ended_at - g.expires_at) AS lag FROM grants g WHERE g.request_id = ANY($1::uuid[])) l`, ids).Scan(&p50, &p99, &worst); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("expiry lag, %d grants ending within one minute: p50 %.2f s  p99 %.2f s  max %.2f s\n", n, p50, p99, worst)
	// Where the tail falls: the latest endings by second of the minute.
	rows, err = pool.Query(ctx, `SELECT floor(extract(epoch FROM g.expires_at - $2::timestamptz))::int AS s, count(*), max(extract(epoch FROM g.ended_at - g.expires_at))
		FROM grants g WHERE g.request_id = ANY($1::uuid[]) GROUP BY s HAVING max(extract(epoch FROM g.ended_at - g.expires_at)) > 1 ORDER BY s`, ids, at)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var s, c int
		var m float64
		if err := rows.Scan(&s, &c, &m); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("  second %2d: %d grants, latest %.2f s late\n", s, c, m)
	}
	rows.Close()
}

func numCPU() int { return runtime.NumCPU() }

// plot draws p50 and p99 dashboard latency against concurrency as SVG.
func plot(rs []result) string {
	const w, h, left, bottom = 640, 360, 60, 40
	top := 1.0
	for _, r := range rs {
		top = max(top, ms(r.p99))
	}
	x := func(i int) float64 { return left + float64(i)*float64(w-left-20)/float64(len(rs)-1) }
	y := func(v float64) float64 { return float64(h-bottom) - v/top*float64(h-bottom-20) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/><line x1="%d" y1="20" x2="%d" y2="%d" stroke="black"/>`+"\n",
		left, h-bottom, w-20, h-bottom, left, left, h-bottom)
	fmt.Fprintf(&sb, `<text x="%d" y="14">Dashboard latency (ms) vs concurrent clients — gatehouse load harness</text>`+"\n", left)
	for _, line := range []struct {
		name  string
		color string
		pick  func(result) float64
	}{{"p50", "#1d4ed8", func(r result) float64 { return ms(r.p50) }}, {"p99", "#b91c1c", func(r result) float64 { return ms(r.p99) }}} {
		var pts []string
		for i, r := range rs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(line.pick(r))))
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" fill="%s">%.1f</text>`+"\n", x(i)+3, y(line.pick(r))-4, line.color, line.pick(r))
		}
		fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", line.color, strings.Join(pts, " "))
	}
	for i, r := range rs {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(i), h-bottom+16, r.clients)
	}
	fmt.Fprintf(&sb, `<text x="%d" y="%d">clients</text><text x="%d" y="%d" fill="#1d4ed8">p50</text><text x="%d" y="%d" fill="#b91c1c">p99</text>`+"\n",
		w/2, h-6, w-100, 40, w-60, 40)
	sb.WriteString("</svg>\n")
	return sb.String()
}

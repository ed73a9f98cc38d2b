package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/testenv"
)

// TestTwoReplicasShareSessionsAndRunEachJobOnce runs two gatehouse
// processes on one database: a session made on one works on the other, and
// jobs (notifications, expiries) enqueued for both run exactly once.
func TestTwoReplicasShareSessionsAndRunEachJobOnce(t *testing.T) {
	first, dbURL := startConsoleOn(t)
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	second := fmt.Sprintf("http://127.0.0.1:%d", port)
	startReplica(t, dbURL, fmt.Sprintf("127.0.0.1:%d", port))

	// A session made through the first replica works on the second (cookies
	// are per host, not per port: the browser sends it to both).
	b := testenv.NewBrowser(t)
	if p := b.SignIn(first, "acme", "approver1@acme.test", devstack.DemoPassword); p.URL.Path != "/" {
		t.Fatalf("sign-in on the first replica ended at %s", p.URL)
	}
	p := b.Get(second + "/approvals")
	if p.Status != http.StatusOK || p.URL.Path != "/approvals" || !strings.Contains(p.Body, "Acme Corp") {
		t.Fatalf("the session on the second replica: %d at %s", p.Status, p.URL)
	}
	// Signing out on the second ends it on the first.
	csrf := testenv.CSRF(t, p)
	b.PostForm(second+"/logout", map[string][]string{"_csrf": {csrf}})
	if p := b.Get(first + "/approvals"); p.URL.Path != "/login" {
		t.Fatalf("after signing out on the second replica, the first still serves %s", p.URL)
	}

	// 40 notifications and 10 expiries, enqueued once, run once across the replicas.
	ctx := context.Background()
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var mu sync.Mutex
	got := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got[body["text"]]++
		mu.Unlock()
	}))
	defer hook.Close()
	inserter, _ := jobs.NewInserter(pool)
	store := postgres.NewRequestStore(pool, inserter, time.Now)
	var acme string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = 'acme'").Scan(&acme); err != nil {
		t.Fatal(err)
	}
	if err := store.SetWebhook(ctx, acme, hook.URL, "test", audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	var params []river.InsertManyParams
	for i := 0; i < 40; i++ {
		params = append(params, river.InsertManyParams{Args: jobs.NotifyArgs{TenantID: acme, Channel: "chat",
			Message: notify.Message{Subject: "replica test", Text: fmt.Sprintf("message %d", i)}}})
	}
	var res string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM resources WHERE tenant_id = $1 AND name = 'CI deploy token'", acme).Scan(&res); err != nil {
		t.Fatal(err)
	}
	var grants []string
	rows, err := pool.Query(ctx, `INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
		justification, state, policy, submitted_at, updated_at)
		SELECT $1, $2, 'r' || g, 'r' || g || '@acme.test', '{}'::jsonb, 'read', 60, 'replica test', 'active', r.policy, now(), now()
		FROM generate_series(1, 10) g, resources r WHERE r.id = $2 RETURNING id::text`, acme, res)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		grants = append(grants, id)
	}
	rows.Close()
	for _, g := range grants {
		if _, err := pool.Exec(ctx, "INSERT INTO grants (request_id, tenant_id, issued_at, expires_at) VALUES ($1, $2, now(), now())", g, acme); err != nil {
			t.Fatal(err)
		}
		params = append(params, river.InsertManyParams{Args: jobs.ExpireGrantArgs{TenantID: acme, RequestID: g}})
	}
	if _, err := inserter.InsertMany(ctx, params); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var expired int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM requests WHERE state = 'expired' AND justification = 'replica test'").Scan(&expired); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if expired == len(grants) && n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d of %d grants expired, %d of 40 notifications", expired, len(grants), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate would land now
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < 40; i++ {
		text := fmt.Sprintf("message %d", i)
		if c := countContaining(got, text); c != 1 {
			t.Errorf("%q delivered %d times", text, c)
		}
	}
	var events int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'grant.expired' AND target = ANY ($1)`, grants).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != len(grants) {
		t.Fatalf("%d grant.expired events for %d grants: an expiry ran twice or not at all", events, len(grants))
	}
}

// countContaining counts deliveries whose text holds exactly this message
// (the webhook formats the subject and link around it).
func countContaining(got map[string]int, text string) int {
	n := 0
	for k, c := range got {
		if strings.Contains(k, text+"\n") || strings.HasSuffix(k, text) {
			n += c
		}
	}
	return n
}

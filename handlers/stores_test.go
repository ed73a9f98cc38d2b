package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/devstack"
	"github.com/gatehouse/gatehouse/testenv"
)

func TestTenantAdminsBindCloudStoresWithoutLeakingCredentials(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	if p := requester.Get(console + "/admin/stores"); p.Status != http.StatusForbidden {
		t.Fatalf("requester on secret stores: %d", p.Status)
	}
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/stores")
	if page.Status != http.StatusOK || !strings.Contains(page.Doc(t).Find(`[data-testid="bindings"]`).Text(), "AWS payments") {
		t.Fatalf("secret stores page: %d", page.Status)
	}
	csrf := testenv.CSRF(t, page)
	count := func() (n int) {
		if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM store_bindings").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	const typedSecret = "typed-secret-key-must-not-echo-9f2"
	bad := url.Values{"_csrf": {csrf}, "kind": {"aws-secretsmanager"}, "name": {"AWS staging"}, "account": {"12"}, "region": {"mars"},
		"access_key_id": {"AKIAEXAMPLEEXAMPLE12"}, "secret_access_key": {typedSecret}}
	p := admin.PostForm(console+"/admin/stores", bad)
	if p.Status != http.StatusBadRequest || fieldError(t, p, "account") == "" || fieldError(t, p, "region") == "" {
		t.Fatalf("bad binding: %d", p.Status)
	}
	if strings.Contains(p.Body, typedSecret) {
		t.Fatal("the form echoes the secret access key")
	}
	if count() != before {
		t.Fatal("a refused binding was saved")
	}
	if p := admin.PostForm(console+"/admin/stores", url.Values{"_csrf": {csrf}, "kind": {"azure-keyvault"}, "name": {"Azure"},
		"vault_url": {"https://evil.example.com"}, "directory_id": {"x"}, "client_id": {"y"}, "client_secret": {"zzzzzzzzzz"}}); p.Status != http.StatusBadRequest || fieldError(t, p, "vault_url") == "" {
		t.Fatalf("an Azure vault URL outside Key Vault: %d", p.Status)
	}

	good := url.Values{"_csrf": {csrf}, "kind": {"aws-secretsmanager"}, "name": {"AWS staging"}, "account": {devstack.MotoAccount},
		"region": {"eu-west-1"}, "prefix": {"staging/"}, "access_key_id": {stack.AWSAdmin.AccessKeyID}, "secret_access_key": {stack.AWSAdmin.SecretAccessKey}}
	p = admin.PostForm(console+"/admin/stores", good)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.URL.Path, "/admin/stores/") || !strings.Contains(p.Doc(t).Find(`[data-testid="flash"]`).Text(), "test passed") {
		t.Fatalf("bind: %d at %s: %s", p.Status, p.URL, p.Doc(t).Find(`[data-testid="check-error"]`).Text())
	}
	if strings.Contains(p.Body, stack.AWSAdmin.SecretAccessKey) {
		t.Fatal("the binding page shows the secret access key")
	}
	staging := p.URL.Path
	if p := admin.PostForm(console+"/admin/stores", good); p.Status != http.StatusConflict {
		t.Fatalf("binding the same location twice: %d", p.Status)
	}
	var leaks int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE concat(target, detail::text) LIKE '%' || $1 || '%'", stack.AWSAdmin.SecretAccessKey).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	var bound int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'store.bound'").Scan(&bound); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 || bound < 2 {
		t.Fatalf("audit: %d rows with the key, %d store.bound events", leaks, bound)
	}

	// Rotation from the binding page: a weak policy is refused, a good one
	// makes a new current version; the page never shows a value.
	spage := admin.Get(console + staging)
	scsrf := testenv.CSRF(t, spage)
	var stagingID string
	if err := f.pool.QueryRow(ctx, "SELECT id::text FROM store_bindings WHERE name = 'AWS staging'").Scan(&stagingID); err != nil {
		t.Fatal(err)
	}
	acmeAWS := strings.TrimPrefix(staging, "/admin/stores/")
	if acmeAWS != stagingID {
		t.Fatalf("binding page %s is not the staging binding %s", staging, stagingID)
	}
	payments := func() string {
		var id string
		if err := f.pool.QueryRow(ctx, "SELECT id::text FROM store_bindings WHERE name = 'AWS payments'").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return "/admin/stores/" + id
	}()
	weak := admin.PostForm(console+payments+"/rotate", url.Values{"_csrf": {scsrf}, "secret": {"payments-api-key"}, "length": {"4"}, "alphabet": {"alnum"}})
	if !strings.Contains(weak.Doc(t).Find(`[data-testid="flash"]`).Text(), "needs correcting") {
		t.Fatalf("a 4-character rotation: %d %q", weak.Status, weak.Doc(t).Find(`[data-testid="flash"]`).Text())
	}
	rot := admin.PostForm(console+payments+"/rotate", url.Values{"_csrf": {scsrf}, "secret": {"payments-api-key"}, "length": {"40"}, "alphabet": {"urlsafe"}})
	if rot.Status != http.StatusOK || !strings.Contains(rot.Doc(t).Find(`[data-testid="flash"]`).Text(), "Rotated payments-api-key") {
		t.Fatalf("rotate: %d %q", rot.Status, rot.Doc(t).Find(`[data-testid="flash"]`).Text())
	}
	if strings.Contains(rot.Body, "pk_demo_acme") {
		t.Fatal("the rotation page shows a value")
	}
	if auditCount(t, f, "secret.rotated", "success") != 1 {
		t.Fatal("the rotation is not audited")
	}

	// Another organization's admin cannot see, test or rotate acme's binding.
	globex, _ := signedIn(t, console, "globex", "admin@globex.test")
	gpage := globex.Get(console + "/admin/stores")
	if p := globex.Get(console + staging); p.Status != http.StatusNotFound {
		t.Fatalf("globex on acme's binding: %d", p.Status)
	}
	if p := globex.PostForm(console+staging+"/test", url.Values{"_csrf": {testenv.CSRF(t, gpage)}}); p.Status != http.StatusNotFound {
		t.Fatalf("globex testing acme's binding: %d", p.Status)
	}
	if p := globex.PostForm(console+payments+"/rotate", url.Values{"_csrf": {testenv.CSRF(t, gpage)}, "secret": {"payments-api-key"}, "length": {"40"}, "alphabet": {"alnum"}}); p.Status != http.StatusNotFound {
		t.Fatalf("globex rotating acme's secret: %d", p.Status)
	}
}

func TestReplicasAndRotationSchedulesFromTheConsole(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	ctx := context.Background()
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/replicas")
	if page.Status != http.StatusOK {
		t.Fatalf("replicas page: %d", page.Status)
	}
	csrf := testenv.CSRF(t, page)
	source, _ := page.Doc(t).Find(`#source option`).First().Attr("value")
	binding, _ := page.Doc(t).Find(`#binding option`).First().Attr("value")
	if source == "" || binding == "" {
		t.Fatal("the form offers no source or no binding")
	}
	bad := admin.PostForm(console+"/admin/replicas", url.Values{"_csrf": {csrf}, "source": {source}, "binding": {binding}, "target_name": {"bad name!"}})
	if bad.Status != http.StatusBadRequest || fieldError(t, bad, "target_name") == "" {
		t.Fatalf("a bad replica name: %d", bad.Status)
	}
	ok := admin.PostForm(console+"/admin/replicas", url.Values{"_csrf": {csrf}, "source": {source}, "binding": {binding}, "target_name": {"acme-orders-replica"}})
	rows := ok.Doc(t).Find(`[data-testid="replicas"] tbody tr`)
	if ok.Status != http.StatusOK || rows.Length() != 1 || !strings.Contains(rows.Text(), "acme-orders-replica") {
		t.Fatalf("add a replica: %d, %d rows", ok.Status, rows.Length())
	}
	id, _ := rows.First().Attr("data-replica")
	var queued int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'sync_secret' AND args->>'target_id' = $1", id).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("%d sync jobs queued for the new replica, want 1", queued)
	}
	globex, _ := signedIn(t, console, "globex", "admin@globex.test")
	gpage := globex.Get(console + "/admin/replicas")
	if p := globex.PostForm(console+"/admin/replicas/"+id+"/purge", url.Values{"_csrf": {testenv.CSRF(t, gpage)}}); p.Status != http.StatusNotFound {
		t.Fatalf("globex purging acme's replica: %d", p.Status)
	}
	if r := admin.Get(console + "/admin/catalog/" + source); !strings.Contains(r.Doc(t).Find(`[data-testid="still-running"]`).Text(), "1 replica(s)") {
		t.Fatalf("the replicated resource's page does not say a replica is kept in sync with it: %q", r.Doc(t).Find(`[data-testid="retire"]`).Text())
	}
	purged := admin.PostForm(console+"/admin/replicas/"+id+"/purge", url.Values{"_csrf": {csrf}})
	if purged.Status != http.StatusOK || strings.TrimSpace(purged.Doc(t).Find(`[data-testid="replica-state"]`).Text()) != "purged" {
		t.Fatalf("purge: %d", purged.Status)
	}

	var aws string
	if err := f.pool.QueryRow(ctx, "SELECT id::text FROM resources WHERE name = 'Payments API key (AWS)'").Scan(&aws); err != nil {
		t.Fatal(err)
	}
	editor := admin.Get(console + "/admin/catalog/" + aws)
	if editor.Doc(t).Find(`[data-testid="rotation"]`).Length() != 1 {
		t.Fatal("the AWS resource's page has no rotation schedule")
	}
	p := admin.PostForm(console+"/admin/catalog/"+aws+"/rotation", url.Values{"_csrf": {csrf}, "every": {"5m"}, "length": {"40"}, "alphabet": {"urlsafe"}, "verify_url": {"http://example.com/x"}})
	if p.Status != http.StatusBadRequest || fieldError(t, p, "every") == "" || fieldError(t, p, "verify_url") == "" {
		t.Fatalf("a 5-minute schedule with a plain-http webhook: %d", p.Status)
	}
	p = admin.PostForm(console+"/admin/catalog/"+aws+"/rotation", url.Values{"_csrf": {csrf}, "every": {"720h"}, "length": {"40"}, "alphabet": {"alnum"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc(t).Find(`[data-testid="rotation-status"]`).Text(), "Next rotation") {
		t.Fatalf("save a schedule: %d", p.Status)
	}
	if name, _ := p.Doc(t).Find(`#details-name`).Attr("value"); name != "Payments API key (AWS)" {
		t.Fatalf("the page after saving a schedule shows the details form with name %q", name)
	}
	stillRunning := p.Doc(t).Find(`[data-testid="still-running"]`).Text()
	if !strings.Contains(stillRunning, "rotation schedule") || p.Doc(t).Find(`[data-testid="rotation-stop"]`).Length() != 1 {
		t.Fatalf("a scheduled resource's page: still running %q, stop forms %d", stillRunning, p.Doc(t).Find(`[data-testid="rotation-stop"]`).Length())
	}

	// Retiring waits for the rotation to stop; stopping it is audited.
	retire := url.Values{"_csrf": {csrf}, "confirm": {"Payments API key (AWS)"}, "reason": {"moved to the new payments account"}}
	if r := admin.PostForm(console+"/admin/catalog/"+aws+"/retire", retire); r.Status != http.StatusConflict ||
		!strings.Contains(r.Doc(t).Find(`[data-testid="retire-error"]`).Text(), "a rotation schedule") {
		t.Fatalf("retiring a resource under rotation: %d %q", r.Status, r.Doc(t).Find(`[data-testid="retire-error"]`).Text())
	}
	globex, _ = signedIn(t, console, "globex", "admin@globex.test")
	if r := globex.PostForm(console+"/admin/catalog/"+aws+"/rotation/stop", url.Values{"_csrf": {testenv.CSRF(t, globex.Get(console+"/admin/replicas"))}}); r.Status != http.StatusNotFound {
		t.Fatalf("globex stopping acme's rotation: %d", r.Status)
	}
	stop := admin.PostForm(console+"/admin/catalog/"+aws+"/rotation/stop", url.Values{"_csrf": {csrf}})
	if stop.Status != http.StatusOK || !strings.Contains(stop.Doc(t).Find(`[data-testid="rotation-flash"]`).Text(), "stopped") ||
		stop.Doc(t).Find(`[data-testid="rotation-status"], [data-testid="rotation-stop"], [data-testid="still-running"]`).Length() != 0 {
		t.Fatalf("stop the rotation: %d %q", stop.Status, stop.Doc(t).Find(`[data-testid="rotation"]`).Text())
	}
	if n := auditCount(t, f, "rotation.stopped", "success"); n != 1 {
		t.Fatalf("%d rotation.stopped events, want 1", n)
	}
	if again := admin.PostForm(console+"/admin/catalog/"+aws+"/rotation/stop", url.Values{"_csrf": {csrf}}); again.Status != http.StatusConflict ||
		!strings.Contains(again.Doc(t).Find(`[data-testid="rotation-error"]`).Text(), "no rotation schedule") {
		t.Fatalf("stopping twice: %d", again.Status)
	}

	// Retired, it takes no schedule until it is restored with a reason.
	if r := admin.PostForm(console+"/admin/catalog/"+aws+"/retire", retire); r.Status != http.StatusOK || r.Doc(t).Find(`[data-testid="retired"]`).Length() != 1 {
		t.Fatalf("retire once the rotation is stopped: %d", r.Status)
	}
	p = admin.PostForm(console+"/admin/catalog/"+aws+"/rotation", url.Values{"_csrf": {csrf}, "every": {"720h"}, "length": {"40"}, "alphabet": {"alnum"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Doc(t).Find(`[data-testid="rotation-error"]`).Text(), "retired") ||
		p.Doc(t).Find(`[data-testid="rotation-retired"]`).Length() != 1 || p.Doc(t).Find(`#every`).Length() != 0 {
		t.Fatalf("a schedule for a retired resource: %d %q", p.Status, p.Doc(t).Find(`[data-testid="rotation"]`).Text())
	}
	var schedules int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM rotation_schedules").Scan(&schedules); err != nil || schedules != 0 {
		t.Fatalf("%d schedules saved (%v); want none", schedules, err)
	}
}

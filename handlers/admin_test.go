package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatehouse/gatehouse/testenv"
)

func mappingRows(t *testing.T, p testenv.Page) []string {
	t.Helper()
	var out []string
	p.Doc(t).Find(`[data-testid="mappings"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find("td").Eq(0).Text())+"→"+strings.TrimSpace(s.Find("td").Eq(1).Text()))
	})
	return out
}

func TestTenantAdminsManageTheirOwnRoleMappings(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/mappings")
	if page.Status != http.StatusOK {
		t.Fatalf("mappings page: %d", page.Status)
	}
	csrf := testenv.CSRF(t, page)
	before := mappingRows(t, page)
	if !slices.Contains(before, "admins→tenant-admin") {
		t.Fatalf("mappings %v", before)
	}

	// Map the auditors group to approver too; it takes effect at next sign-in.
	p := admin.PostForm(console+"/admin/mappings", url.Values{"_csrf": {csrf}, "group": {"auditors"}, "role": {"approver"}})
	if p.Status != http.StatusOK || !slices.Contains(mappingRows(t, p), "auditors→approver") {
		t.Fatalf("add: %d %v", p.Status, mappingRows(t, p))
	}
	_, home := signedIn(t, console, "acme", "auditor@acme.test")
	if got := roles(t, home); !slices.Equal(got, []string{"approver", "auditor"}) {
		t.Fatalf("auditor's roles after the new mapping: %v", got)
	}
	// globex is untouched.
	_, ghome := signedIn(t, console, "globex", "auditor@globex.test")
	if got := roles(t, ghome); !slices.Equal(got, []string{"auditor"}) {
		t.Fatalf("globex auditor's roles changed: %v", got)
	}

	bad := []struct {
		path  string
		form  url.Values
		field string
	}{
		{"/admin/mappings", url.Values{"group": {"auditors"}, "role": {"approver"}}, "group"},     // duplicate
		{"/admin/mappings", url.Values{"group": {""}, "role": {"approver"}}, "group"},             // blank
		{"/admin/mappings", url.Values{"group": {"x"}, "role": {"root"}}, "role"},                 // unknown role
		{"/admin/mappings", url.Values{"group": {"ops"}, "role": {"platform-operator"}}, "role"},  // escalation
		{"/admin/mappings/remove", url.Values{"group": {"admins"}, "role": {"tenant-admin"}}, ""}, // last admin mapping
	}
	for _, b := range bad {
		b.form.Set("_csrf", csrf)
		p := admin.PostForm(console+b.path, b.form)
		if p.Status != http.StatusBadRequest {
			t.Errorf("%s %v: status %d", b.path, b.form, p.Status)
			continue
		}
		d := p.Doc(t)
		if b.field != "" && d.Find(`[data-testid="`+b.field+`-error"]`).Length() == 0 {
			t.Errorf("%s %v: no %s field error", b.path, b.form, b.field)
		}
		if b.field == "" && d.Find(`[data-testid="form-error"]`).Length() == 0 {
			t.Errorf("%s %v: no form error", b.path, b.form)
		}
	}
	after := mappingRows(t, admin.Get(console+"/admin/mappings"))
	if len(after) != len(before)+1 {
		t.Fatalf("refused changes changed the mappings: %v → %v", before, after)
	}
	if n := auditCount(t, f, "role_mapping.added", "success"); n != 1 {
		t.Fatalf("%d role_mapping.added events", n)
	}

	p = admin.PostForm(console+"/admin/mappings/remove", url.Values{"_csrf": {csrf}, "group": {"auditors"}, "role": {"approver"}})
	if p.Status != http.StatusOK || slices.Contains(mappingRows(t, p), "auditors→approver") {
		t.Fatalf("remove: %d %v", p.Status, mappingRows(t, p))
	}
}

func TestMembersAndMappingsPagesFollowRoles(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	signedIn(t, console, "globex", "requester@globex.test")
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	auditor, _ := signedIn(t, console, "acme", "auditor@acme.test")

	if p := requester.Get(console + "/admin/members"); p.Status != http.StatusForbidden {
		t.Errorf("requester on members: %d", p.Status)
	}
	if p := auditor.Get(console + "/admin/mappings"); p.Status != http.StatusForbidden {
		t.Errorf("auditor on mappings: %d", p.Status)
	}
	p := auditor.Get(console + "/admin/members")
	if p.Status != http.StatusOK {
		t.Fatalf("auditor on members: %d", p.Status)
	}
	text := p.Doc(t).Find(`[data-testid="members"]`).Text()
	for _, want := range []string{"requester@acme.test", "auditor@acme.test"} {
		if !strings.Contains(text, want) {
			t.Errorf("members list lacks %s", want)
		}
	}
	if strings.Contains(text, "globex") {
		t.Error("another tenant's member is listed")
	}
}

// Session counts show what is open now: a session past its idle timeout
// but not yet swept (its row still there) is not counted on the members
// page or on the platform's organization list.
func TestSessionCountsLeaveOutEndedSessionsNotYetSwept(t *testing.T) {
	f := newFixture(t, nil)
	console := f.serve(t)
	signedIn(t, console, "acme", "auditor@acme.test")
	auditor, _ := signedIn(t, console, "acme", "auditor@acme.test")
	op, _ := signedIn(t, console, "gatehouse", "operator@gatehouse.test")
	// The auditor's first session has been idle for two hours (the idle
	// timeout is 30 minutes); the sweep has not run yet.
	tag, err := f.pool.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '2 hours'
		WHERE ref = (SELECT ref FROM sessions WHERE email = 'auditor@acme.test' ORDER BY created_at LIMIT 1)`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("ageing a session: %v %v", tag, err)
	}

	p := auditor.Get(console + "/admin/members")
	if p.Status != http.StatusOK {
		t.Fatalf("members: %d", p.Status)
	}
	if n := strings.TrimSpace(p.Doc(t).Find(`tr[data-member="auditor@acme.test"] [data-testid="sessions"]`).Text()); n != "1" {
		t.Errorf("the auditor's active sessions on the members page: %q, want 1 (one of two is idle)", n)
	}
	p = op.Get(console + "/platform/tenants")
	if n := strings.TrimSpace(p.Doc(t).Find(`tr[data-tenant="acme"] [data-testid="sessions"]`).Text()); n != "1" {
		t.Errorf("acme's active sessions on the organization list: %q, want 1", n)
	}
}

package handlers_test

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/app"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/notifytest"
	"github.com/gatehouse/gatehouse/testenv"
)

// testOutcomes reads the test-send results: channel → state and reason.
func testOutcomes(t *testing.T, p testenv.Page) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	rows := p.Doc(t).Find(`[data-testid="test-outcomes"] tbody tr`)
	for i := range rows.Length() {
		r := rows.Eq(i)
		ch, _ := r.Attr("data-channel")
		st, _ := r.Attr("data-state")
		out[ch] = [2]string{st, strings.TrimSpace(r.Find("td").Eq(2).Text())}
	}
	return out
}

func startSMTP(t *testing.T) *notifytest.TestSMTPServer {
	t.Helper()
	s, err := notifytest.StartTestSMTPServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Tenant admins send their organization's email through its own relay:
// bad settings are refused field by field and change nothing, the password
// is never shown back, and "Send a test message" reports each channel.
func TestTenantAdminsSetAndTestTheirOwnMailRelay(t *testing.T) {
	const password = "relay-pass-S3CRET"
	gatehouseRelay, own := startSMTP(t), startSMTP(t)
	own.RequireLogin("acme-mailer", password)
	f := newFixtureWith(t, func(o *app.Options) {
		o.Relay = &notify.Mailer{Addr: gatehouseRelay.Addr, From: "gatehouse@gatehouse.test", TLS: gatehouseRelay.ClientTLS,
			PublicURL: stack.PublicURL, Now: time.Now}
		o.RelayTLS, o.LocalChannels = own.ClientTLS, true // the organization's relay runs on loopback here
	}, nil)
	console := f.serve(t)
	admin, _ := signedIn(t, console, "acme", "admin@acme.test")
	page := admin.Get(console + "/admin/notifications")
	if page.Status != http.StatusOK {
		t.Fatalf("notifications page: %d", page.Status)
	}
	if form := page.Form(t, `[data-testid="email-form"]`); form.Get("relay") != "gatehouse" || form.Get("email_enabled") != "on" {
		t.Fatalf("the default email channel: relay %q, enabled %q", form.Get("relay"), form.Get("email_enabled"))
	}
	csrf := testenv.CSRF(t, page)
	good := url.Values{"_csrf": {csrf}, "email_enabled": {"on"}, "relay": {"own"}, "smtp_addr": {own.Addr},
		"smtp_from": {"security@acme.test"}, "smtp_username": {"acme-mailer"}, "smtp_password": {password}}
	with := func(k, v string) url.Values {
		form := url.Values{}
		for key, vs := range good {
			form[key] = vs
		}
		form.Set(k, v)
		return form
	}
	for i, b := range []struct {
		form  url.Values
		field string
	}{
		{with("smtp_addr", "smtp.example.com"), "smtp_addr"},
		{with("smtp_addr", ":587"), "smtp_addr"},
		{with("smtp_from", "Security <security@acme.test>"), "smtp_from"},
		{with("smtp_from", "not an address"), "smtp_from"},
		{with("smtp_password", ""), "smtp_password"},
		{with("smtp_username", ""), "smtp_username"},
		{url.Values{"_csrf": {csrf}, "email_enabled": {"on"}, "relay": {"own"}}, "smtp_addr"}, // own relay chosen, none given
	} {
		p := admin.PostForm(console+"/admin/notifications/email", b.form)
		if p.Status != http.StatusBadRequest || p.Doc(t).Find(`[data-testid="`+b.field+`-error"]`).Length() == 0 {
			t.Errorf("bad case %d: status %d, no %s error", i, p.Status, b.field) // never the form: it holds the password
		}
		if strings.Contains(p.Body, password) {
			t.Fatal("a refused form showed the password back")
		}
	}
	if n := auditCount(t, f, "channels.email_set", "success"); n != 0 {
		t.Fatalf("refused settings were saved: %d channels.email_set events", n)
	}

	p := admin.PostForm(console+"/admin/notifications/email", good)
	if p.Status != http.StatusOK || p.URL.Query().Get("saved") != "email" || strings.Contains(p.Body, password) {
		t.Fatalf("save: %d at %s", p.Status, p.URL)
	}
	form := p.Form(t, `[data-testid="email-form"]`)
	form.Del("_csrf") // a token: never in test output
	if form.Get("relay") != "own" || form.Get("smtp_addr") != own.Addr || form.Get("smtp_from") != "security@acme.test" ||
		form.Get("smtp_username") != "acme-mailer" || form.Get("smtp_password") != "" || !strings.Contains(p.Body, "kept in Vault") {
		t.Fatalf("the saved settings as shown: %v", form)
	}

	p = admin.PostForm(console+"/admin/notifications/test", url.Values{"_csrf": {csrf}})
	got := testOutcomes(t, p)
	if p.Status != http.StatusOK || got["email"][0] != "delivered" || got["chat"] != [2]string{"not-sent", "The organization has no chat webhook set."} {
		t.Fatalf("test send: %d %v", p.Status, got)
	}
	msgs := own.Messages()
	if len(msgs) != 1 || msgs[0].User != "acme-mailer" || msgs[0].From != "security@acme.test" ||
		len(msgs[0].To) != 1 || msgs[0].To[0] != "admin@acme.test" || !strings.Contains(msgs[0].Data, "Test notification") {
		t.Fatalf("the organization's relay received %+v", msgs)
	}
	if len(gatehouseRelay.Messages()) != 0 {
		t.Fatal("the test message went through Gatehouse's relay")
	}
	if auditCount(t, f, "channels.tested", "success") != 1 || auditCount(t, f, "channels.email_set", "success") != 1 {
		t.Fatal("the save and the test send are not both audited")
	}

	// Only tenant admins hold these settings.
	requester, _ := signedIn(t, console, "acme", "requester@acme.test")
	rcsrf := testenv.CSRF(t, requester.Get(console+"/"))
	for _, path := range []string{"/admin/notifications/email", "/admin/notifications/test"} {
		if p := requester.PostForm(console+path, url.Values{"_csrf": {rcsrf}, "relay": {"gatehouse"}}); p.Status != http.StatusForbidden {
			t.Errorf("a requester's POST %s: %d", path, p.Status)
		}
	}
	if n := auditCount(t, f, "channels.email_set", "success") + auditCount(t, f, "channels.tested", "success"); n != 2 {
		t.Fatalf("a requester's refused posts changed something: %d events", n)
	}
}

// Without the server's local-channels setting, a relay or webhook a tenant
// admin points at a loopback or private address is never dialed: the test
// send says so in plain words, and nothing reaches it.
func TestChannelsOnPrivateAddressesAreNeverDialed(t *testing.T) {
	relay := startSMTP(t)
	hits := 0
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	t.Cleanup(hook.Close)
	f := newFixtureWith(t, func(o *app.Options) { o.RelayTLS = relay.ClientTLS }, nil)
	console := f.serve(t)
	admin, page := signedIn(t, console, "acme", "admin@acme.test")
	csrf := testenv.CSRF(t, page)
	// Mail ports only: the test relay's own port is refused outright.
	p := admin.PostForm(console+"/admin/notifications/email", url.Values{"_csrf": {csrf}, "email_enabled": {"on"}, "relay": {"own"},
		"smtp_addr": {relay.Addr}, "smtp_from": {"security@acme.test"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc(t).Find(`[data-testid="smtp_addr-error"]`).Text(), "25, 587 or 2525") {
		t.Fatalf("a relay on port %s: %d", relay.Addr, p.Status)
	}
	for _, step := range []struct{ path, key, value string }{
		{"/admin/notifications/email", "smtp_addr", "127.0.0.1:25"},
		{"/admin/notifications", "webhook_url", hook.URL + "/hooks/SECRET-PART"},
	} {
		form := url.Values{"_csrf": {csrf}, "email_enabled": {"on"}, "relay": {"own"}, "smtp_from": {"security@acme.test"}, step.key: {step.value}}
		if p := admin.PostForm(console+step.path, form); p.Status != http.StatusOK {
			t.Fatalf("saving %s: %d", step.key, p.Status)
		}
	}
	p = admin.PostForm(console+"/admin/notifications/test", url.Values{"_csrf": {csrf}})
	got := testOutcomes(t, p)
	for _, ch := range []string{"email", "chat"} {
		if got[ch][0] != "failed" || !strings.Contains(got[ch][1], "loopback or private network address") {
			t.Errorf("%s: %v", ch, got[ch])
		}
	}
	if hits != 0 || strings.Contains(p.Body, "SECRET-PART") {
		t.Fatalf("the webhook was called %d times, or its URL shown", hits)
	}
	if auditCount(t, f, "channels.tested", "failure") != 1 {
		t.Fatal("the failed test send is not audited as a failure")
	}
}

// loopbackAlias is a random address of 127.0.0.0/8 other than 127.0.0.1,
// which Linux routes to the loopback interface: a host of its own for a
// test peer, on a fixed port without clashing with other tests.
func loopbackAlias(t *testing.T) netip.Addr {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return netip.AddrFrom4([4]byte{127, b[0] | 1, b[1], b[2]&0xfe | 2})
}

// The operators may open private networks to organizations' relays and
// webhooks (GATEHOUSE_CHANNEL_NETWORKS): those are reached, on mail ports
// still, and every other non-public address stays refused.
func TestChannelsInOpenedPrivateNetworksAreReachedAndNoOthers(t *testing.T) {
	relayIP := loopbackAlias(t)
	relay, err := notifytest.StartTestSMTPServerAt(netip.AddrPortFrom(relayIP, 2525).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	hookIP := relayIP.Next()
	hits := 0
	hook := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	ln, err := net.Listen("tcp", netip.AddrPortFrom(hookIP, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	hook.Listener.Close()
	hook.Listener = ln
	hook.Start()
	t.Cleanup(hook.Close)

	f := newFixtureWith(t, func(o *app.Options) {
		o.RelayTLS = relay.ClientTLS
		o.ChannelNetworks = []netip.Prefix{netip.PrefixFrom(relayIP, 32), netip.PrefixFrom(hookIP, 32)}
	}, nil)
	console := f.serve(t)
	admin, page := signedIn(t, console, "acme", "admin@acme.test")
	csrf := testenv.CSRF(t, page)
	save := func(path, key, value string) {
		t.Helper()
		form := url.Values{"_csrf": {csrf}, "email_enabled": {"on"}, "relay": {"own"}, "smtp_from": {"security@acme.test"}, key: {value}}
		if p := admin.PostForm(console+path, form); p.Status != http.StatusOK {
			t.Fatalf("saving %s: %d", key, p.Status)
		}
	}
	save("/admin/notifications/email", "smtp_addr", relay.Addr)
	save("/admin/notifications", "webhook_url", hook.URL+"/hooks/x")
	got := testOutcomes(t, admin.PostForm(console+"/admin/notifications/test", url.Values{"_csrf": {csrf}}))
	if got["email"][0] != "delivered" || got["chat"][0] != "delivered" {
		t.Fatalf("channels in the opened networks: %v", got)
	}
	if n := len(relay.Messages()); n != 1 || hits != 1 {
		t.Fatalf("the relay received %d messages and the webhook %d posts, want 1 each", n, hits)
	}

	// A relay at a private address not opened (here 127.0.0.1) is refused.
	save("/admin/notifications/email", "smtp_addr", "127.0.0.1:2525")
	got = testOutcomes(t, admin.PostForm(console+"/admin/notifications/test", url.Values{"_csrf": {csrf}}))
	if got["email"][0] != "failed" || !strings.Contains(got["email"][1], "loopback or private network address") || got["chat"][0] != "delivered" {
		t.Errorf("a relay outside the opened networks: %v", got)
	}
}

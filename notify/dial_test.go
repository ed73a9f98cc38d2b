package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/notifytest"
)

// The destinations tenant admins type are dialed only when public: the
// check is on the address dialed, so it holds whatever a name resolves to.
func TestThePublicDialerRefusesEveryNonPublicAddress(t *testing.T) {
	control := notify.PublicDialer(time.Second).Control
	for _, addr := range []string{"127.0.0.1", "127.10.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fc00::1", "fd12::1", "fe80::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1"} {
		hostport := netip.AddrPortFrom(netip.MustParseAddr(addr), 587).String()
		if err := control("tcp", hostport, nil); !errors.Is(err, notify.ErrPrivateAddress) {
			t.Errorf("%s: %v, want refused", hostport, err)
		}
	}
	for _, addr := range []string{"8.8.8.8", "1.1.1.1", "203.0.113.7", "2001:4860:4860::8888"} {
		hostport := netip.AddrPortFrom(netip.MustParseAddr(addr), 587).String()
		if err := control("tcp", hostport, nil); err != nil {
			t.Errorf("%s refused: %v", hostport, err)
		}
	}
}

// A relay or webhook on loopback is refused before anything is sent, with
// the reason in plain words.
func TestGuardedChannelsSendNothingToLoopback(t *testing.T) {
	srv, err := notifytest.StartTestSMTPServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m := &notify.Mailer{Addr: srv.Addr, From: "gatehouse@acme.test", TLS: srv.ClientTLS, Now: time.Now,
		Dial: notify.PublicDialer(time.Second).DialContext}
	err = m.Send(context.Background(), []string{"x@acme.test"}, notify.Message{Subject: "s"})
	if !errors.Is(err, notify.ErrPrivateAddress) || !strings.Contains(notify.Reason(err), "loopback or private network address") {
		t.Fatalf("send to a loopback relay: %v (%q)", err, notify.Reason(err))
	}
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("the loopback relay received %d messages", len(got))
	}

	hits := 0
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer hook.Close()
	w := &notify.Webhook{Client: notify.PublicClient(time.Second)}
	err = w.Post(context.Background(), hook.URL+"/hooks/SECRET-PART", notify.Message{Subject: "s"})
	if !errors.Is(err, notify.ErrPrivateAddress) || !strings.Contains(notify.Reason(err), "loopback or private network address") {
		t.Fatalf("post to a loopback webhook: %v (%q)", err, notify.Reason(err))
	}
	if strings.Contains(err.Error(), "SECRET-PART") || hits != 0 {
		t.Fatalf("error %q, %d requests received", err, hits)
	}
}

// Networks the operators opened are dialed; every other non-public
// address is still refused.
func TestThePublicDialerAllowsOnlyTheOpenedPrivateNetworks(t *testing.T) {
	control := notify.PublicDialer(time.Second, netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd12:3456::/48")).Control
	for _, addr := range []string{"10.20.0.5", "10.20.255.1", "::ffff:10.20.1.1", "fd12:3456::25", "8.8.8.8"} {
		hostport := netip.AddrPortFrom(netip.MustParseAddr(addr), 587).String()
		if err := control("tcp", hostport, nil); err != nil {
			t.Errorf("%s refused: %v", hostport, err)
		}
	}
	for _, addr := range []string{"10.21.0.5", "10.0.0.1", "172.16.3.4", "127.0.0.1", "169.254.169.254", "fd12:3457::25", "::1"} {
		hostport := netip.AddrPortFrom(netip.MustParseAddr(addr), 587).String()
		if err := control("tcp", hostport, nil); !errors.Is(err, notify.ErrPrivateAddress) {
			t.Errorf("%s: %v, want refused", hostport, err)
		}
	}
}

package notify

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is PublicDialer's refusal to connect to a loopback,
// private, link-local, shared, unspecified or multicast address.
var ErrPrivateAddress = errors.New("refusing to connect to a non-public address")

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), which
// netip does not count as private.
func cgnat(ip netip.Addr) bool { return netip.MustParsePrefix("100.64.0.0/10").Contains(ip) }

// PublicDialer returns a dialer that connects to public addresses, and to
// addresses inside the allowed networks, only. The check runs on the
// address actually dialed, after name resolution, so a host name resolving
// to 127.0.0.1 or 10.0.0.5 is refused as well (and a name that resolves
// differently the second time gains nothing).
//
// It guards the destinations tenant admins type — their chat webhook and
// their own mail relay — so that a notification setting cannot reach
// Gatehouse's own network (Vault, PostgreSQL, cloud metadata endpoints).
// allowed are the private networks the server's operators opened to them
// (organizations' relays and chat servers reached over a private link);
// they are the operators' choice, checked when the configuration is read.
// Gatehouse's own relay comes from server configuration and is dialed
// directly.
func PublicDialer(timeout time.Duration, allowed ...netip.Prefix) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return ErrPrivateAddress
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return ErrPrivateAddress
		}
		ip = ip.Unmap()
		for _, p := range allowed {
			if p.Contains(ip) {
				return nil
			}
		}
		if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || cgnat(ip) {
			return ErrPrivateAddress
		}
		return nil
	}}
}

// PublicClient is the HTTP client of tenants' chat webhooks: it connects to
// public addresses and the allowed networks only (PublicDialer, also on
// every redirect) and uses no proxy, so the check applies to the webhook's
// own address.
func PublicClient(timeout time.Duration, allowed ...netip.Prefix) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = PublicDialer(timeout, allowed...).DialContext
	return &http.Client{Timeout: timeout, Transport: t}
}

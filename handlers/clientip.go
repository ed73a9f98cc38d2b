package handlers

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// clientIP returns how a request's client address is read — the address
// the sign-in rate limit counts, the access log shows and every audit event
// records (c.RealIP()).
//
// With no trusted proxies it is the TCP peer's address, and any
// X-Forwarded-For a client sends is ignored: anyone can write that header.
// With trusted proxies (the load balancers in front of Gatehouse), it is the
// nearest address in X-Forwarded-For that is not one of them, read from the
// TCP peer outwards: a client can prepend whatever it likes to the header,
// but only the hops through trusted proxies are believed. A request that
// did not come through a trusted proxy, or whose header holds something
// that is not an address, is taken at its TCP peer's address. Loopback,
// link-local and private addresses are trusted only when listed.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

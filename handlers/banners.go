package handlers

import (
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/web"
)

// bannerTTL is how long a replica reuses a tenant's break-glass banner: it
// is on every page, and an emergency shown a second late is still shown on
// the next click. Breaking glass also clears its tenant's entry at once.
const bannerTTL = time.Second

// bannerCache keeps each tenant's break-glass banner for bannerTTL. It is
// per replica and per Server (no shared state).
type bannerCache struct {
	mu sync.Mutex
	m  map[string]bannerEntry
}

type bannerEntry struct {
	at time.Time
	v  []web.EmergencyBanner
}

func (b *bannerCache) get(tenantID string, now time.Time) ([]web.EmergencyBanner, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[tenantID]
	if !ok || now.Sub(e.at) >= bannerTTL || now.Before(e.at) {
		return nil, false
	}
	return e.v, true
}

func (b *bannerCache) put(tenantID string, v []web.EmergencyBanner, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) > 10000 {
		b.m = map[string]bannerEntry{}
	}
	b.m[tenantID] = bannerEntry{at: now, v: v}
}

// forget drops a tenant's banner (its break-glass state just changed).
func (b *bannerCache) forget(tenantID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, tenantID)
}

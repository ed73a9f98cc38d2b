package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkDashboard renders the dashboard in-process for a signed-in
// person with many requests in flight (50 goroutines), over the real
// database: the handler, session and banner cost without the network.
// Run with -cpuprofile to see where a render's time goes.
func BenchmarkDashboard(b *testing.B) {
	f := newFixture(b, nil)
	console := f.serve(b)
	browser, _ := signedIn(b, console, "acme", "requester@acme.test")
	u, _ := url.Parse(console)
	cookies := browser.Jar.Cookies(u)
	b.SetParallelism(25)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			f.e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("dashboard: %d", rec.Code)
			}
		}
	})
}

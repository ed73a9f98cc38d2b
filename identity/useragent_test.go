package identity

import (
	"strings"
	"testing"
)

func TestDescribeUserAgent(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera on Linux"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Go-http-client/1.1", "Go-http-client/1.1"},
		{"curl/8.5.0", "curl/8.5.0"},
		{"Mozilla/5.0 (Windows NT 10.0)", "A browser on Windows"},
		{"", "Unknown browser"},
		{"   ", "Unknown browser"},
		{strings.Repeat("x", 100), strings.Repeat("x", 40) + "…"},
		{strings.Repeat("é", 50), strings.Repeat("é", 40) + "…"},
	} {
		if got := DescribeUserAgent(c.ua); got != c.want {
			t.Errorf("DescribeUserAgent(%.60q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

func TestValidRef(t *testing.T) {
	for _, c := range []struct {
		ref  string
		want bool
	}{
		{"0b5e9a4c-7d1f-4c2e-9a51-3f0d6b8e2c47", true},
		{"0B5E9A4C-7D1F-4C2E-9A51-3F0D6B8E2C47", false}, // Gatehouse writes lowercase only
		{"0b5e9a4c7d1f4c2e9a513f0d6b8e2c47", false},
		{"{0b5e9a4c-7d1f-4c2e-9a51-3f0d6b8e2c47}", false},
		{"0b5e9a4c-7d1f-4c2e-9a51-3f0d6b8e2c4g", false},
		{"0b5e9a4c_7d1f-4c2e-9a51-3f0d6b8e2c47", false},
		{"", false},
		{"../../logout", false},
	} {
		if got := validRef(c.ref); got != c.want {
			t.Errorf("validRef(%q) = %v, want %v", c.ref, got, c.want)
		}
	}
}

package web

import "encoding/json"

// csrfHeader returns the hx-headers JSON that makes htmx send the CSRF token
// with every request it issues, or "{}" when there is no token.
func csrfHeader(token string) string {
	if token == "" {
		return "{}"
	}
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

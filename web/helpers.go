package web

import (
	"encoding/json"
	"strconv"
)

// htmxConfig is the layout's htmx-config: no eval, no inline scripts, and
// error responses (4xx, 5xx) swapped too — handleError retargets them, as a
// notice, into the layout's notices area, so a refusal is seen, not dropped.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

// csrfHeader returns the hx-headers JSON that makes htmx send the CSRF token
// with every request it issues, or "{}" when there is no token.
func csrfHeader(token string) string {
	if token == "" {
		return "{}"
	}
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// joinComma joins items with ", ", or returns "none".
func joinComma(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	out := items[0]
	for _, s := range items[1:] {
		out += ", " + s
	}
	return out
}

// wizardTitle is the onboarding wizard's heading.
func wizardTitle(name string) string {
	if name == "" {
		return "Onboard an organization"
	}
	return "Onboard an organization: " + name
}

func itoa(n int) string { return strconv.Itoa(n) }

// isFolder reports whether a Vault key names a folder.
func isFolder(key string) bool { return len(key) > 0 && key[len(key)-1] == '/' }

// stepKey is the form name of approval step n's field.
func stepKey(n int, field string) string { return "step" + strconv.Itoa(n) + "_" + field }

// blankSteps are the numbers (from 1) of the unused step slots after the
// first, offered to add a step.
func blankSteps(steps []StepForm) []int {
	var out []int
	for i, st := range steps {
		if i > 0 && st.Blank() {
			out = append(out, i+1)
		}
	}
	return out
}

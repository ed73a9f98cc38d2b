package identity

import "strings"

// DescribeUserAgent returns a short, plain description of the browser a
// User-Agent header names ("Firefox on Linux"), for a person to recognise
// their own sessions. The header is whatever the client chose to send: the
// description is for display only and must never be trusted for anything.
// An unknown client is described by its first product token (at most 40
// characters), an empty header as "Unknown browser". It cannot fail.
func DescribeUserAgent(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "Unknown browser"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{ // order matters: Edge and Opera also say Chrome, Chrome also says Safari
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
		{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"Chromium/", "Chromium"}, {"HeadlessChrome/", "Headless Chrome"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{ // iOS and Android before the systems they mention
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	first, _, _ := strings.Cut(ua, " ")
	if r := []rune(strings.ToValidUTF8(first, "?")); len(r) > 40 {
		first = string(r[:40]) + "…"
	} else {
		first = string(r)
	}
	return first
}

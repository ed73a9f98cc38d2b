package testenv

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Browser is an HTTP client that keeps cookies and follows redirects, for
// driving sign-in round trips through the real IdPs without Chromium.
type Browser struct {
	*http.Client
	t testing.TB
}

// Page is a fetched page: the final URL, status and body.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// Doc parses the page as HTML.
func (p Page) Doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Form returns what submitting the form matched by selector would send as
// it stands: named inputs (checkboxes and radios only when checked),
// textareas, and each select's selected option (else its first).
func (p Page) Form(t testing.TB, selector string) url.Values {
	t.Helper()
	form := p.Doc(t).Find(selector)
	if form.Length() != 1 {
		t.Fatalf("%d forms match %s at %s", form.Length(), selector, p.URL)
	}
	v := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		typ, _ := in.Attr("type")
		_, checked := in.Attr("checked")
		if (typ == "checkbox" || typ == "radio") && !checked {
			return
		}
		if typ == "submit" || typ == "button" {
			return
		}
		val, ok := in.Attr("value")
		if !ok && (typ == "checkbox" || typ == "radio") {
			val = "on"
		}
		v.Add(name, val)
	})
	form.Find("textarea[name]").Each(func(_ int, ta *goquery.Selection) {
		name, _ := ta.Attr("name")
		v.Add(name, ta.Text())
	})
	form.Find("select[name]").Each(func(_ int, sel *goquery.Selection) {
		name, _ := sel.Attr("name")
		opt := sel.Find("option[selected]").First()
		if opt.Length() == 0 {
			opt = sel.Find("option").First()
		}
		val, ok := opt.Attr("value")
		if !ok {
			val = opt.Text()
		}
		v.Add(name, val)
	})
	return v
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{Jar: jar, Timeout: 20 * time.Second}, t: t}
}

// Get fetches rawURL, following redirects.
func (b *Browser) Get(rawURL string) Page {
	b.t.Helper()
	resp, err := b.Client.Get(rawURL)
	if err != nil {
		b.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return b.read(resp)
}

// PostForm posts form to rawURL, following redirects.
func (b *Browser) PostForm(rawURL string, form url.Values) Page {
	b.t.Helper()
	resp, err := b.Client.PostForm(rawURL, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", rawURL, err)
	}
	return b.read(resp)
}

func (b *Browser) read(resp *http.Response) Page {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

// SubmitLogin fills Dex's password form on page with email and password,
// submits it and returns where the redirects end (normally the console).
func (b *Browser) SubmitLogin(page Page, email, password string) Page {
	b.t.Helper()
	d := page.Doc(b.t)
	form := d.Find(`form[method="post"], form[method="POST"]`).First()
	if form.Length() == 0 || form.Find(`input[name="password"]`).Length() == 0 {
		b.t.Fatalf("no password form at %s (status %d):\n%.800s", page.URL, page.Status, page.Body)
	}
	action, _ := form.Attr("action")
	target, err := page.URL.Parse(action)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.PostForm(target.String(), url.Values{"login": {email}, "password": {password}})
}

// SignIn runs a whole sign-in of email at the organization org through
// console (the console's base URL) and returns the page it ends on.
func (b *Browser) SignIn(console, org, email, password string) Page {
	b.t.Helper()
	return b.SubmitLogin(b.Get(console+"/auth/"+org+"/start"), email, password)
}

// Cookie returns the value of the cookie name the jar holds for rawURL.
func (b *Browser) Cookie(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// CSRF returns the CSRF form token on page (the _csrf field).
func CSRF(t testing.TB, page Page) string {
	t.Helper()
	v, ok := page.Doc(t).Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok {
		t.Fatalf("no CSRF field on %s", page.URL)
	}
	return v
}

// NoRedirect returns a copy of the browser's client that stops at the
// first redirect, for inspecting Location headers.
func (b *Browser) NoRedirect() *http.Client {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

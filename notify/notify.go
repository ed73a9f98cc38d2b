// Package notify delivers Gatehouse's notifications: email over SMTP and a
// Slack-compatible chat webhook per tenant. Senders are called by jobs,
// which retry with backoff; a failing channel never blocks the decision or
// grant that caused the message. Messages never carry secret values or tokens.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one notification.
type Message struct {
	Subject string
	Text    string
	Link    string // a path in the console, e.g. /requests/<id>; made absolute when sent
	Urgent  bool
}

func (m Message) subject() string {
	s := strings.NewReplacer("\r", " ", "\n", " ").Replace(m.Subject)
	if m.Urgent {
		s = "[URGENT] " + s
	}
	return "[Gatehouse] " + s
}

func (m Message) body(publicURL string) string {
	b := m.Text
	if m.Link != "" {
		b += "\n\n" + strings.TrimRight(publicURL, "/") + m.Link
	}
	return b
}

// Mailer sends email through an SMTP relay, over STARTTLS.
type Mailer struct {
	Addr      string // host:port of the relay; "" disables email
	From      string
	Username  string // PLAIN auth when set (only ever over TLS)
	Password  string
	PublicURL string
	TLS       *tls.Config // roots and server name for STARTTLS; nil for the system's
	// AllowPlaintext talks to the relay without TLS (a local dev relay on
	// loopback); never with a username.
	AllowPlaintext bool
	// Dial connects to the relay; nil dials directly. An organization's own
	// relay is dialed through PublicDialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
}

// Enabled reports whether the mailer has a relay to send through (Send
// sends nothing otherwise).
func (m *Mailer) Enabled() bool { return m != nil && m.Addr != "" }

// Send mails msg to the recipients. It returns the relay's error, as a
// DeliveryError saying what went wrong in plain words.
func (m *Mailer) Send(ctx context.Context, to []string, msg Message) error {
	if m.Addr == "" || len(to) == 0 {
		return nil
	}
	for _, a := range append([]string{m.From}, to...) {
		if strings.ContainsAny(a, "\r\n<>") {
			return &DeliveryError{Reason: "An address has control characters in it: the message was not sent.",
				Err: fmt.Errorf("refusing an address with control characters")}
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n",
		m.From, strings.Join(to, ", "), msg.subject(), m.Now().UTC().Format(time.RFC1123Z))
	if msg.Urgent {
		buf.WriteString("X-Priority: 1\r\nImportance: high\r\n")
	}
	buf.WriteString("\r\n" + strings.ReplaceAll(msg.body(m.PublicURL), "\n", "\r\n") + "\r\n")
	if err := m.deliver(ctx, to, &buf); err != nil {
		return failure("The mail relay", fmt.Errorf("sending mail through %s: %w", m.Addr, err))
	}
	return nil
}

func (m *Mailer) deliver(ctx context.Context, to []string, msg io.Reader) error {
	dial := m.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	conn, err := dial(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	var c *smtp.Client
	if m.AllowPlaintext && m.Username == "" {
		c = smtp.NewClient(conn)
	} else {
		host, _, _ := net.SplitHostPort(m.Addr)
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if m.TLS != nil {
			cfg = m.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil { // it closes conn
			return err
		}
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 2*time.Minute
	if m.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.Username, m.Password)); err != nil {
			return err
		}
	}
	if err := c.SendMail(m.From, to, msg); err != nil {
		return err
	}
	return c.Quit()
}

// Webhook posts Slack-compatible JSON ({"text": …}) to a tenant's URL.
type Webhook struct {
	Client    *http.Client
	PublicURL string
}

// Post sends msg to url. A non-2xx answer is an error (and retried); every
// error is a DeliveryError saying what went wrong in plain words.
func (w *Webhook) Post(ctx context.Context, url string, msg Message) error {
	if url == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"text": "*" + msg.subject() + "*\n" + msg.body(w.PublicURL)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil { // the URL itself is a credential: never in errors
		return &DeliveryError{Reason: "The chat webhook's URL is not valid.", Err: errors.New("the webhook URL is not valid")}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which is a credential
		}
		return failure("The chat webhook", fmt.Errorf("posting to the webhook: %w", err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answered("The chat webhook", resp.StatusCode, fmt.Errorf("the webhook answered %s", resp.Status))
	}
	return nil
}

package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/emersion/go-smtp"
)

// DeliveryError is a channel's failure to deliver a message. Reason says
// what went wrong in plain words, for the pages that show whether a notice
// reached its recipients: it never holds a URL (a webhook URL is a
// credential), a password or the message itself. Error is the technical
// account, for logs and the job's retry record.
type DeliveryError struct {
	Reason string
	Err    error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Reason returns why err kept a message from being delivered, in plain
// words: a DeliveryError's reason, or a generic sentence for any other
// error (whose text may not be fit to show).
func Reason(err error) string {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Reason
	}
	return "The delivery failed; the server log has the details."
}

// failure wraps err, a failure talking to who (e.g. "The mail relay"), in
// a DeliveryError saying what went wrong.
func failure(who string, err error) error {
	var smtpErr *smtp.SMTPError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var host x509.HostnameError
	var netErr net.Error
	reason := who + " could not be reached."
	switch {
	case errors.Is(err, ErrPrivateAddress):
		reason = who + " is at a loopback or private network address; Gatehouse sends notifications only to public addresses and to the private networks its operators opened."
	case errors.As(err, &smtpErr):
		reason = who + " refused the message (SMTP " + strconv.Itoa(smtpErr.Code) + ": " + clip(smtpErr.Message) + ")."
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		reason = who + " did not answer in time."
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = who + " refused the connection: nothing is listening at its address."
	case errors.As(err, &dnsErr):
		reason = who + "'s host name could not be resolved."
	case errors.As(err, &certErr) || errors.As(err, &authority) || errors.As(err, &host):
		reason = who + " was reached, but its TLS certificate is not trusted."
	}
	return &DeliveryError{Reason: reason, Err: err}
}

// answered is a DeliveryError for an HTTP answer outside 2xx, named by
// its code (never the server's own reason phrase or body).
func answered(who string, code int, err error) error {
	return &DeliveryError{Reason: who + " answered " + strconv.Itoa(code) + " " + http.StatusText(code) + ".", Err: err}
}

// clip keeps a server's message short and on one line.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

package tenants

import (
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apperr"
)

// EmailChannel is how a tenant's email notifications go out: at all or not
// (an organization may want its chat webhook only), and through which
// relay. The zero Relay is Gatehouse's own relay; the zero EmailChannel of a
// tenant that never chose is Enabled through Gatehouse's relay (see
// DefaultEmailChannel).
type EmailChannel struct {
	Enabled bool
	Relay   MailRelay
}

// DefaultEmailChannel is the channel of a tenant that never chose one.
func DefaultEmailChannel() EmailChannel { return EmailChannel{Enabled: true} }

// MailRelay is an organization's own SMTP relay. Gatehouse always talks to
// it over STARTTLS with a verified certificate, and logs in (PLAIN, inside
// TLS) when Username is set. The password is kept in Vault at PasswordRef,
// never in PostgreSQL.
type MailRelay struct {
	Addr        string // host:port; "" for Gatehouse's own relay
	From        string // the sender address of the organization's notifications
	Username    string // "" when the relay takes no login
	PasswordRef string // Vault KV path of the password; set with Username
}

// Own reports whether r is the organization's own relay (not Gatehouse's).
func (r MailRelay) Own() bool { return r.Addr != "" }

// relayPort reports whether p is a submission or relay port an
// organization's relay may listen on. Gatehouse dials what a tenant admin
// types, so it keeps to mail ports: a relay setting must not be a way to
// reach other services.
func relayPort(p int) bool { return p == 25 || p == 587 || p == 2525 }

// RelayPorts names the ports CheckEmailChannel accepts, for messages.
const RelayPorts = "25, 587 or 2525"

// CheckEmailChannel validates ch as a tenant admin submitted it, with the
// relay's password as typed ("" keeps the one already kept, hadPassword).
// anyPort accepts any port (server configuration, for local development
// and tests with a relay on a free port). It returns apperr.Invalid with a
// message per field, or nil.
func CheckEmailChannel(ch EmailChannel, password string, hadPassword, anyPort bool) error {
	if !ch.Relay.Own() {
		if ch.Relay != (MailRelay{}) || password != "" {
			return apperr.InvalidFields("Check the email settings.", map[string]string{"smtp_addr": "Give the relay's host:port to use your own relay."})
		}
		return nil
	}
	fields := map[string]string{}
	r := ch.Relay
	host, port, err := net.SplitHostPort(r.Addr)
	p, perr := strconv.Atoi(port)
	switch {
	case err != nil || host == "" || perr != nil || strings.ContainsAny(host, " /\\@"):
		fields["smtp_addr"] = "Give the relay as host:port, e.g. smtp.example.com:587."
	case !anyPort && !relayPort(p):
		fields["smtp_addr"] = fmt.Sprintf("Use a mail port: %s.", RelayPorts)
	}
	if a, err := mail.ParseAddress(r.From); err != nil || a.Address != r.From || a.Name != "" {
		fields["smtp_from"] = "Give the sender as a plain address, e.g. gatehouse@example.com."
	}
	switch {
	case strings.ContainsAny(r.Username, "\r\n\x00"):
		fields["smtp_username"] = "The username has control characters in it."
	case r.Username == "" && password != "":
		fields["smtp_username"] = "Give the username that goes with the password."
	case r.Username != "" && password == "" && !hadPassword:
		fields["smtp_password"] = "Give the relay's password."
	}
	if strings.ContainsAny(password, "\r\n\x00") {
		fields["smtp_password"] = "The password has control characters in it."
	}
	if len(fields) > 0 {
		return apperr.InvalidFields("Check the email settings.", fields)
	}
	return nil
}

// MailRelayRef is where a password of tenantID's relay is kept in Vault:
// each new password gets a fresh version (so a failed save never changes
// the password of the relay in force); version "" gives the tenant's
// folder.
func MailRelayRef(tenantID, version string) string {
	return "gatehouse/channels/" + tenantID + "/smtp/" + version
}

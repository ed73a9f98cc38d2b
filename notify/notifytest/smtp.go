// Package notifytest provides a real SMTP server (go-smtp, STARTTLS with a
// test CA) on loopback for tests of code that sends mail.
package notifytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message accepted by a TestSMTPServer.
type Received struct {
	From string
	To   []string
	Data string
	User string // who logged in (AUTH PLAIN) to send it; "" when nobody did
}

// TestSMTPServer is a real SMTP server (go-smtp) on loopback that keeps
// what it receives, for tests of code that sends mail. Not for production.
type TestSMTPServer struct {
	Addr      string
	ClientTLS *tls.Config // trusts the server's certificate
	srv       *smtp.Server
	mu        sync.Mutex
	got       []Received
	user      string // RequireLogin's credentials
	password  string
}

// RequireLogin makes the server take mail only from a client that logged
// in (AUTH PLAIN, offered after STARTTLS only) as user with password.
func (t *TestSMTPServer) RequireLogin(user, password string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.user, t.password = user, password
}

// login checks credentials against RequireLogin's.
func (t *TestSMTPServer) login(user, password string) (required bool, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.user != "", t.user != "" && user == t.user && password == t.password
}

// StartTestSMTPServer listens on a free loopback port, offering STARTTLS
// with a certificate from a fresh test CA; ClientTLS trusts it.
func StartTestSMTPServer() (*TestSMTPServer, error) {
	return StartTestSMTPServerAt("127.0.0.1:0")
}

// StartTestSMTPServerAt is StartTestSMTPServer listening on addr, an IP
// address and port (port 0: a free one), with a certificate for that IP.
func StartTestSMTPServerAt(addr string) (*TestSMTPServer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("test SMTP server address %q is not an IP address and port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	cert, pool, err := testCertificate(ip)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	t := &TestSMTPServer{Addr: ln.Addr().String(), ClientTLS: &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}}
	t.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &testSession{server: t}, nil }))
	t.srv.Domain, t.srv.ReadTimeout, t.srv.WriteTimeout = "localhost", 10*time.Second, 10*time.Second
	t.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// Messages returns what was received so far.
func (t *TestSMTPServer) Messages() []Received {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Received(nil), t.got...)
}

// Close stops the server.
func (t *TestSMTPServer) Close() error { return t.srv.Close() }

type testSession struct {
	server *TestSMTPServer
	cur    Received
	user   string // who logged in
}

func (s *testSession) Reset()        { s.cur = Received{} }
func (s *testSession) Logout() error { return nil }
func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if required, _ := s.server.login("", ""); required && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.cur.From, s.cur.User = from, s.user
	return nil
}

// AuthMechanisms offers PLAIN (go-smtp offers AUTH only over TLS).
func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth checks PLAIN credentials against RequireLogin's.
func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if _, ok := s.server.login(user, password); !ok {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Invalid credentials"}
		}
		s.user = user
		return nil
	}), nil
}
func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.server.mu.Lock()
	s.server.got = append(s.server.got, s.cur)
	s.server.mu.Unlock()
	return nil
}

// testCertificate makes a self-signed certificate for ip and a pool
// trusting it.
func testCertificate(ip net.IP) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{ip}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

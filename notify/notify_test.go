package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/notifytest"
)

func TestMailGoesThroughARealSMTPServer(t *testing.T) {
	srv, err := notifytest.StartTestSMTPServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m := &notify.Mailer{Addr: srv.Addr, From: "gatehouse@acme.test", PublicURL: "https://gatehouse.example", TLS: srv.ClientTLS, Now: time.Now}
	// Without trusting the relay's certificate, nothing is sent.
	untrusted := &notify.Mailer{Addr: srv.Addr, From: "gatehouse@acme.test", Now: time.Now}
	if err := untrusted.Send(context.Background(), []string{"x@acme.test"}, notify.Message{Subject: "s"}); err == nil {
		t.Fatal("mail went to a relay whose certificate is not trusted")
	} else if r := notify.Reason(err); r != "The mail relay was reached, but its TLS certificate is not trusted." {
		t.Fatalf("an untrusted relay's reason: %q", r)
	}
	err = m.Send(context.Background(), []string{"approver1@acme.test", "approver2@acme.test"},
		notify.Message{Subject: "Access request: Orders DB\r\nBcc: evil@x", Text: "Riley asks for read access.", Link: "/requests/r1", Urgent: true})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || len(got[0].To) != 2 || got[0].From != "gatehouse@acme.test" {
		t.Fatalf("received %+v", got)
	}
	d := got[0].Data
	for _, want := range []string{"Subject: [Gatehouse] [URGENT] Access request: Orders DB  Bcc: evil@x", "https://gatehouse.example/requests/r1", "Importance: high"} {
		if !strings.Contains(d, want) {
			t.Errorf("message lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "\r\nBcc:") {
		t.Error("a header was injected through the subject")
	}
	// Nothing to send, nothing sent.
	if err := (&notify.Mailer{}).Send(context.Background(), []string{"a@b"}, notify.Message{}); err != nil {
		t.Fatal(err)
	}
	// An unreachable relay is an error (the job retries it).
	down := &notify.Mailer{Addr: "127.0.0.1:1", From: "g@x", Now: time.Now}
	if err := down.Send(context.Background(), []string{"a@b.test"}, notify.Message{Subject: "s"}); err == nil {
		t.Fatal("sending to a closed port succeeded")
	} else if r := notify.Reason(err); r != "The mail relay refused the connection: nothing is listening at its address." {
		t.Fatalf("a closed relay's reason: %q", r)
	}
}

func TestWebhookPostsSlackCompatibleJSON(t *testing.T) {
	var got map[string]string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	w := &notify.Webhook{Client: srv.Client(), PublicURL: "https://gatehouse.example"}
	if err := w.Post(context.Background(), srv.URL, notify.Message{Subject: "Access granted", Text: "until 12:00", Link: "/grants"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got["text"], "*[Gatehouse] Access granted*") || !strings.Contains(got["text"], "https://gatehouse.example/grants") {
		t.Fatalf("posted %q", got["text"])
	}
	status = http.StatusInternalServerError
	if err := w.Post(context.Background(), srv.URL+"/hooks/SECRET-PART", notify.Message{Subject: "x"}); err == nil {
		t.Fatal("a 500 from the webhook was not an error")
	} else if r := notify.Reason(err); r != "The chat webhook answered 500 Internal Server Error." || strings.Contains(err.Error(), "SECRET-PART") {
		t.Fatalf("a failing webhook's reason: %q (%v)", r, err)
	}
	srv.Close()
	if err := w.Post(context.Background(), srv.URL+"/hooks/SECRET-PART", notify.Message{Subject: "x"}); err == nil {
		t.Fatal("posting to a closed webhook succeeded")
	} else if r := notify.Reason(err); !strings.HasPrefix(r, "The chat webhook ") || strings.Contains(r+err.Error(), "SECRET-PART") {
		t.Fatalf("a closed webhook's reason: %q (%v)", r, err)
	}
}

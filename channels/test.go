package channels

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/jobs"
	"github.com/gatehouse/gatehouse/notify"
)

// TestOutcome is how a test message went on one channel.
type TestOutcome struct {
	Channel string // "email" or "chat"
	State   string // jobs.NoticeDelivered, jobs.NoticeFailed or jobs.NoticeNotSent
	Reason  string // why it failed or was not sent, in plain words; never a URL or a password
}

// testTimeout bounds one test send, so the admin's page answers.
const testTimeout = 20 * time.Second

// Test sends a test message on each of the tenant's channels now — by email
// to the admin who asked (to), and to the chat webhook — and returns how
// each went, audited (channels.tested, with the outcomes). Nothing is
// retried: the admin sees at once whether the channels work.
func (s *Service) Test(ctx context.Context, tenantID, to, actor string, meta audit.Meta) ([]TestOutcome, error) {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	msg := notify.Message{Subject: "Test notification",
		Text: "This is a test of your organization's notification channels, sent from the Notifications page by " + actor + ". Nothing needs doing.",
		Link: "/admin/notifications"}
	email := TestOutcome{Channel: "email"}
	m, notSent, err := s.MailerFor(ctx, tenantID)
	if err == nil && notSent == "" {
		err = m.Send(ctx, []string{to}, msg)
	}
	email.State, email.Reason = outcome(notSent, err)

	chat := TestOutcome{Channel: "chat"}
	url, err := s.Store.Webhook(ctx, tenantID)
	notSent = ""
	switch {
	case err != nil:
		err = &notify.DeliveryError{Reason: "Gatehouse could not read the organization's chat webhook setting.", Err: err}
	case url == "":
		notSent = "The organization has no chat webhook set."
	default:
		err = s.Chat.Post(ctx, url, msg)
	}
	chat.State, chat.Reason = outcome(notSent, err)

	out := []TestOutcome{email, chat}
	ev := meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "channels.tested", Outcome: audit.Success,
		Detail: map[string]string{"email": email.State, "chat": chat.State}})
	if email.Reason != "" {
		ev.Detail["email_reason"] = email.Reason
	}
	if chat.Reason != "" {
		ev.Detail["chat_reason"] = chat.Reason
	}
	if email.State == jobs.NoticeFailed || chat.State == jobs.NoticeFailed {
		ev.Outcome = audit.Failure
	}
	return out, s.Audit.RecordEvent(context.WithoutCancel(ctx), ev)
}

// outcome names how a send went.
func outcome(notSent string, err error) (state, reason string) {
	switch {
	case err != nil:
		return jobs.NoticeFailed, notify.Reason(err)
	case notSent != "":
		return jobs.NoticeNotSent, notSent
	}
	return jobs.NoticeDelivered, ""
}

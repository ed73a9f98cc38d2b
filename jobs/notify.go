package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gatehouse/gatehouse/notify"
)

// NotifyArgs is one notification on one channel ("email" or "chat"),
// enqueued in the transaction of the event it tells about.
type NotifyArgs struct {
	TenantID string `json:"tenant_id"`
	Ref      string `json:"ref,omitempty"` // the object it is about (a request ID), to show its delivery there
	// NoticeID names the notice's record (who was told, and how delivery
	// went), written beside the job; "" for a notice about no object.
	NoticeID string         `json:"notice_id,omitempty"`
	Channel  string         `json:"channel"`
	To       []string       `json:"to,omitempty"`
	Message  notify.Message `json:"message"`
}

// Kind names the job in River's tables.
func (NotifyArgs) Kind() string { return "notify" }

// InsertOpts retries a failing channel for about a day.
func (NotifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 12} }

// Channels finds a tenant's channels: its chat webhook, and the mailer its
// email goes out through — or, when it goes nowhere, why in plain words
// (implemented by channels.Service).
type Channels interface {
	Webhook(ctx context.Context, tenantID string) (string, error)
	MailerFor(ctx context.Context, tenantID string) (m *notify.Mailer, notSent string, err error)
}

// The states of a notice's delivery.
const (
	NoticePending   = "pending"   // not tried yet
	NoticeRetrying  = "retrying"  // an attempt failed; retried with backoff
	NoticeDelivered = "delivered" // the channel took it
	NoticeFailed    = "failed"    // every attempt failed; not retried
	NoticeNotSent   = "not-sent"  // the channel is not set up (no chat webhook, no mail relay)
)

// DeliveryOutcome is how one attempt at a notice went.
type DeliveryOutcome struct {
	State   string // NoticeDelivered, NoticeRetrying, NoticeFailed or NoticeNotSent
	Attempt int
	Reason  string // why it failed or was not sent, in plain words ("" when delivered)
}

// NoticeLog records notices' delivery outcomes (implemented by the
// postgres adapter).
type NoticeLog interface {
	// RecordDelivery records outcome o of an attempt at notice id. When
	// complete is not nil it runs in the same transaction, so the record
	// and the job's completion commit together. It returns the database's
	// error (a notice with no record is no error).
	RecordDelivery(ctx context.Context, id string, o DeliveryOutcome, complete func(pgx.Tx) error) error
}

// NotifyWorker sends one notification and records how it went in the
// notice's record (Notices). A failure is retried with backoff; it never
// reaches back to the decision or grant that caused it.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	Webhook  *notify.Webhook
	Channels Channels
	Notices  NoticeLog // nil: outcomes are not recorded
}

// Work sends the notification. A delivered notice's record and the job's
// completion commit together (if that fails, the job is retried, as it
// would be had River failed to complete it); a failed attempt is recorded
// with its reason in plain words, as failed for good on the last attempt.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	a := job.Args
	notSent, err := w.send(ctx, a)
	if a.NoticeID == "" || w.Notices == nil {
		return err
	}
	o := DeliveryOutcome{State: NoticeDelivered, Attempt: job.Attempt}
	switch {
	case err != nil && job.Attempt >= job.MaxAttempts:
		o.State, o.Reason = NoticeFailed, notify.Reason(err)
	case err != nil:
		o.State, o.Reason = NoticeRetrying, notify.Reason(err)
	case notSent != "":
		o.State, o.Reason = NoticeNotSent, notSent
	}
	if err != nil {
		if rerr := w.Notices.RecordDelivery(ctx, a.NoticeID, o, nil); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return w.Notices.RecordDelivery(ctx, a.NoticeID, o, func(tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// send delivers the notification on its channel. When the channel is not
// set up it sends nothing and says why in notSent.
func (w *NotifyWorker) send(ctx context.Context, a NotifyArgs) (notSent string, err error) {
	if a.Channel == "email" {
		m, notSent, err := w.Channels.MailerFor(ctx, a.TenantID)
		switch {
		case err != nil || notSent != "":
			return notSent, err
		case len(a.To) == 0:
			return "Nobody to email.", nil
		}
		return "", m.Send(ctx, a.To, a.Message)
	}
	url, err := w.Channels.Webhook(ctx, a.TenantID)
	if err != nil {
		return "", &notify.DeliveryError{Reason: "Gatehouse could not read the organization's chat webhook setting.", Err: err}
	}
	if url == "" {
		return "The organization has no chat webhook set.", nil
	}
	return "", w.Webhook.Post(ctx, url, a.Message)
}

// Delivery is one notice about an object — who was told, on which channel,
// and how delivery went — as the object's page shows it.
type Delivery struct {
	Channel     string   // "email" or "chat"
	To          []string // the email recipients (none for chat: the organization's webhook)
	Subject     string
	Urgent      bool
	EnqueuedAt  time.Time
	State       string // NoticePending, NoticeRetrying, NoticeDelivered, NoticeFailed or NoticeNotSent
	Attempts    int
	Reason      string    // why the last attempt failed or nothing was sent, in plain words; never a secret
	AttemptedAt time.Time // the last attempt (zero before the first)
}

// MaxObjectNotices is the most notices about one object its page lists:
// the latest ones. The page says how many more there are; the
// notifications page lists them all (NoticeQuery.Ref).
const MaxObjectNotices = 500

// ObjectNotices are the notices about one object as its page lists them:
// the latest MaxObjectNotices at most, and how many there are in all.
type ObjectNotices struct {
	Latest []Delivery // the newest notices, listed oldest first (email before chat within one event)
	Total  int        // every notice about the object, those in Latest among them
}

// Older returns how many notices about the object are older than those in
// Latest, and so not listed with them (0 when Latest holds them all).
func (n ObjectNotices) Older() int { return max(n.Total-len(n.Latest), 0) }

// Delivered reports whether the notification was sent.
func (d Delivery) Delivered() bool { return d.State == NoticeDelivered }

// Failing reports whether delivery failed (for now, or for good).
func (d Delivery) Failing() bool { return d.State == NoticeRetrying || d.State == NoticeFailed }

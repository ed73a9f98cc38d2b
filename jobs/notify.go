package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/notify"
)

// NotifyArgs is one notification on one channel ("email" or "chat"),
// enqueued in the transaction of the event it tells about.
type NotifyArgs struct {
	TenantID string         `json:"tenant_id"`
	Ref      string         `json:"ref,omitempty"` // the request it is about, to show its delivery there
	Channel  string         `json:"channel"`
	To       []string       `json:"to,omitempty"`
	Message  notify.Message `json:"message"`
}

// Kind names the job in River's tables.
func (NotifyArgs) Kind() string { return "notify" }

// InsertOpts retries a failing channel for about a day.
func (NotifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 12} }

// Channels finds a tenant's chat webhook (implemented by the postgres adapter).
type Channels interface {
	Webhook(ctx context.Context, tenantID string) (string, error)
}

// NotifyWorker sends one notification. A failure is retried with backoff;
// it never reaches back to the decision or grant that caused it.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	Mailer   *notify.Mailer
	Webhook  *notify.Webhook
	Channels Channels
}

// Work sends the notification.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	a := job.Args
	if a.Channel == "email" {
		return w.Mailer.Send(ctx, a.To, a.Message)
	}
	url, err := w.Channels.Webhook(ctx, a.TenantID)
	if err != nil {
		return err
	}
	return w.Webhook.Post(ctx, url, a.Message)
}

// Delivery is the state of one notification job, shown on the page of the
// request it is about.
type Delivery struct {
	Channel   string // "email" or "chat"
	State     string // River's: available, running, retryable, completed, discarded…
	Attempts  int
	LastError string // the channel's last error; never a secret (URLs are not included)
}

// Delivered reports whether the notification was sent.
func (d Delivery) Delivered() bool { return d.State == "completed" }

package jobs

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/secretstores"
)

// Workers are the dependencies of Gatehouse's job workers.
type Workers struct {
	Grants      GrantStore
	Sweeper     PendingSweeper
	Reviews     ReviewEscalator
	Shares      ShareStore
	Revocations RevocationStore
	// Heads and Anchors drive the periodic audit checkpoint, every
	// CheckpointEvery (10 minutes when zero; skipped when Heads is nil).
	Heads           HeadReader
	Anchors         []Anchor
	CheckpointEvery time.Duration
	// Scanner runs the access monitor every 15 seconds (skipped when nil).
	Scanner Scanner
	// Campaigns get hourly reminders of reviews coming due (skipped when nil).
	Campaigns CampaignReminder
	// Channels finds each tenant's webhook and mailer; Webhook posts to
	// the webhooks; Notices records who was told and how delivery went.
	Channels Channels
	Webhook  *notify.Webhook
	Notices  NoticeLog
	// Sessions and SessionIdle drive the periodic sweep of ended sessions
	// (skipped when Sessions is nil).
	Sessions    SessionSweeper
	SessionIdle time.Duration
	// NoticeSweeper and NoticeRetention drive the hourly deletion of
	// notices past their retention (skipped when NoticeSweeper is nil;
	// DefaultNoticeRetention when NoticeRetention is zero).
	NoticeSweeper   NoticeSweeper
	NoticeRetention time.Duration
	// RateLimits drives the deletion of full rate limit buckets every
	// SweepRateLimitsEvery (skipped when nil).
	RateLimits RateLimitSweeper
	Vault      GrantVault
	// RevokeConcurrency is how many grants a revocation ends at once
	// (jobs.RevokeConcurrency when zero).
	RevokeConcurrency int
	// Replicas, Resources, Rotator, Sources and Clouds drive scheduled
	// rotation (every minute) and replica sync (every 5 minutes); both are
	// skipped when Replicas is nil.
	// Due drives the expiry sweep every ExpiryCheckEvery (Grants when it
	// lists due grants itself; skipped when neither does: each grant's own
	// expiry job ends it ExpiryBackstop late).
	Due       DueGrantLister
	Replicas  ReplicaStore
	Resources ResourceReader
	Rotator   Rotator
	Sources   func(mount, tenantID string) secretstores.Store
	Clouds    CloudStores
	Now       func() time.Time
	Log       *slog.Logger
	// PollInterval overrides how often idle workers look for due jobs
	// (River's default when zero; tests shorten it).
	PollInterval time.Duration
}

// RescueAfter is how long a job may stay "running" before another replica
// takes it over (its own replica died).
const RescueAfter = 5 * time.Minute

// QueueWorkers is how many jobs of the default queue (notifications,
// reminders, checkpoints, syncs) one replica works at once. Jobs wait on
// mail servers, Vault and PostgreSQL far more than they compute, so this is
// well above the core count (measured with the load harness's expiry lag).
const QueueWorkers = 50

// QueueAccess is the queue of the jobs that start or end access: issuing,
// the expiry sweep and each grant's expiry, revocations, ending shares.
// It has its own workers (AccessWorkers) so that access never waits behind
// a backlog of notifications: a mass expiry sends one notice per grant, and
// with one queue the next expiry sweep waited 13 s behind them
// (BenchmarkExpiryLag).
const (
	QueueAccess   = "access"
	AccessWorkers = 20
)

// FetchCooldown is the least time between two fetches of a queue, and
// between two insert notifications of a queue (River's default: 100 ms,
// which is how long a grant job waited for a worker after its insert,
// BenchmarkApproveToCredential's gatehouse-via-river). Every job client,
// inserting or working, is made with it: the inserter's notification
// wakes the workers.
const FetchCooldown = 10 * time.Millisecond

// NewClient returns a River client that inserts and works Gatehouse's
// jobs. Start it with Start(ctx); Stop it on shutdown. Jobs missed while no
// client ran (an expiry while Gatehouse was down) run as soon as one starts.
func NewClient(pool *pgxpool.Pool, w Workers) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &IssueGrantWorker{Store: w.Grants, Vault: w.Vault, Now: w.Now, Log: w.Log})
	river.AddWorker(workers, &ExpireGrantWorker{Store: w.Grants, Vault: w.Vault})
	river.AddWorker(workers, &TimeoutRequestsWorker{Sweeper: w.Sweeper})
	river.AddWorker(workers, &EscalateReviewsWorker{Escalator: w.Reviews})
	river.AddWorker(workers, &EndShareWorker{Shares: w.Shares, Grants: w.Grants, Vault: w.Vault})
	river.AddWorker(workers, &RevokeTenantGrantsWorker{Shares: w.Shares, Grants: w.Grants, Vault: w.Vault})
	river.AddWorker(workers, &RevokeScopeWorker{Revocations: w.Revocations, Grants: w.Grants, Vault: w.Vault,
		Concurrency: cmp.Or(w.RevokeConcurrency, RevokeConcurrency)})
	river.AddWorker(workers, &CheckpointWorker{Heads: w.Heads, Anchors: w.Anchors})
	river.AddWorker(workers, &ScanAuditWorker{Scanner: w.Scanner})
	river.AddWorker(workers, &RemindReviewsWorker{Reminder: w.Campaigns})
	river.AddWorker(workers, &SweepSessionsWorker{Sweeper: w.Sessions, Idle: w.SessionIdle})
	river.AddWorker(workers, &SweepNoticesWorker{Sweeper: w.NoticeSweeper, Retention: w.NoticeRetention, Log: w.Log})
	river.AddWorker(workers, &SweepRateLimitsWorker{Sweeper: w.RateLimits, Log: w.Log})
	river.AddWorker(workers, &RemindWorker{Store: w.Grants, Channels: w.Channels})
	river.AddWorker(workers, &NotifyWorker{Webhook: w.Webhook, Channels: w.Channels, Notices: w.Notices})
	if w.Due == nil { // the grant store lists due grants itself (postgres.RequestStore does)
		w.Due, _ = w.Grants.(DueGrantLister)
	}
	river.AddWorker(workers, &ExpireDueWorker{Due: w.Due, Store: w.Grants, Vault: w.Vault})
	river.AddWorker(workers, &RotateDueWorker{Store: w.Replicas, Now: w.Now})
	river.AddWorker(workers, &RotateResourceWorker{Store: w.Replicas, Resources: w.Resources, Rotator: w.Rotator})
	river.AddWorker(workers, &SyncAllWorker{Store: w.Replicas})
	river.AddWorker(workers, &SyncSecretWorker{Store: w.Replicas, Sources: w.Sources, Clouds: w.Clouds})
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: QueueWorkers},
			QueueAccess:        {MaxWorkers: AccessWorkers},
		},
		Workers:      workers,
		Logger:       w.Log,
		PeriodicJobs: periodic(w),
		// A job running on a replica that died is retried by another after
		// this long (River's default is an hour). Jobs are cancelled after
		// River's one-minute job timeout anyway, and every job is safe to
		// run twice; a stuck expiry sweep must not block the next for long.
		RescueStuckJobsAfter: RescueAfter,
		FetchCooldown:        FetchCooldown,
		FetchPollInterval:    w.PollInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the job client: %w", err)
	}
	return c, nil
}

func periodic(w Workers) []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return TimeoutRequestsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return EscalateReviewsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
	if w.Scanner != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(15*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return ScanAuditArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.Campaigns != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return RemindReviewsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.Heads != nil {
		every := w.CheckpointEvery
		if every == 0 {
			every = 10 * time.Minute
		}
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return CheckpointAuditArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.Due != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(ExpiryCheckEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ExpireDueArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.Replicas != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return RotateDueArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return SyncAllArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.Sessions != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SweepSessionsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.NoticeSweeper != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(SweepNoticesEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepNoticesArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if w.RateLimits != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(SweepRateLimitsEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepRateLimitsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	return jobs
}

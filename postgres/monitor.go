package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/monitor"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/paging"
	"github.com/gatehouse/gatehouse/postgres/db"
)

// MonitorSettings returns the tenant's monitor settings (the defaults until set).
func (s *RequestStore) MonitorSettings(ctx context.Context, tenantID string) (monitor.Settings, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return monitor.Settings{}, errNoRequest
	}
	return monitorSettings(ctx, db.New(s.pool), tid)
}

func monitorSettings(ctx context.Context, q *db.Queries, tid uuid.UUID) (monitor.Settings, error) {
	raw, err := q.GetMonitorSettings(ctx, tid)
	if errors.Is(err, pgx.ErrNoRows) {
		return monitor.DefaultSettings(), nil
	}
	if err != nil {
		return monitor.Settings{}, err
	}
	st := monitor.DefaultSettings()
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("monitor settings: %w", err)
	}
	return st, nil
}

// SetMonitorSettings validates and sets the tenant's settings, audited.
func (s *RequestStore) SetMonitorSettings(ctx context.Context, tenantID string, st monitor.Settings, actor string, meta audit.Meta) error {
	if err := st.Check(); err != nil {
		return err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoRequest
	}
	raw, _ := json.Marshal(st)
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.UpsertMonitorSettings(ctx, db.UpsertMonitorSettingsParams{TenantID: tid, Settings: raw, Actor: actor}); err != nil {
			return err
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "monitor.settings_changed",
			Outcome: audit.Success}))
	})
}

// ScanAudit evaluates the monitor's rules on the audit events written
// since the last scan (up to batch of them), in order, under the cursor's
// lock (one replica scans at a time): alerts are stored and sent to the
// tenant's security channel (its webhook) in the same transaction as the
// cursor moves, so each event is evaluated once. It returns the alerts raised.
func (s *RequestStore) ScanAudit(ctx context.Context, batch int) (int, error) {
	raised := 0
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		last, err := q.LockMonitorCursor(ctx)
		if err != nil {
			return err
		}
		events, err := q.EventsAfter(ctx, db.EventsAfterParams{After: last, MaxRows: int32(batch)})
		if err != nil || len(events) == 0 {
			return err
		}
		settings := map[uuid.UUID]monitor.Settings{}
		for _, e := range events {
			if !e.TenantID.Valid {
				continue
			}
			tid := uuid.UUID(e.TenantID.Bytes)
			st, ok := settings[tid]
			if !ok {
				if st, err = monitorSettings(ctx, q, tid); err != nil {
					return err
				}
				settings[tid] = st
			}
			var detail map[string]string
			_ = json.Unmarshal(e.Detail, &detail)
			ev := monitor.Event{ID: e.ID, At: e.OccurredAt, Actor: e.Actor, Action: e.Action, Target: e.Target, IP: e.Ip,
				Denied: e.Outcome == string(audit.Denied) || e.Outcome == string(audit.Failure)}
			f, err := facts(ctx, q, tid, ev, detail["secret"], st)
			if err != nil {
				return err
			}
			for _, a := range monitor.Evaluate(ev, f, st) {
				id, err := q.InsertAlert(ctx, db.InsertAlertParams{TenantID: tid, Rule: string(a.Rule), Score: int32(a.Score), Summary: a.Summary,
					EventID: e.ID, Actor: e.Actor, OccurredAt: e.OccurredAt, CreatedAt: s.now()})
				if err != nil {
					return err
				}
				if err := s.noticeAbout(ctx, tx, tid.String(), "", nil, notify.Message{Urgent: a.Score >= 70,
					Subject: "Security alert (" + string(a.Rule) + ", score " + strconv.Itoa(a.Score) + ")", Text: a.Summary,
					Link: "/security#alert-" + strconv.FormatInt(id, 10)}); err != nil {
					return err
				}
				raised++
			}
		}
		return q.SetMonitorCursor(ctx, events[len(events)-1].ID)
	})
	return raised, err
}

// facts gathers what the rules need to know of ev's history.
func facts(ctx context.Context, q *db.Queries, tid uuid.UUID, ev monitor.Event, secret string, st monitor.Settings) (monitor.Facts, error) {
	f := monitor.Facts{NetworkSeen: true}
	if n := monitor.Network(ev.IP); n != "" && len(ev.Action) > 6 && ev.Action[:6] == "login." {
		known, err := q.CountActorNetworks(ctx, db.CountActorNetworksParams{TenantID: tid, Actor: ev.Actor})
		if err != nil {
			return f, err
		}
		added, err := q.RememberNetwork(ctx, db.RememberNetworkParams{TenantID: tid, Actor: ev.Actor, Network: n, FirstSeen: ev.At})
		if err != nil {
			return f, err
		}
		f.NetworkSeen = added == 0 || known == 0 // a person's first network is their baseline, not an anomaly
	}
	if ev.Action == "grant.revealed" || ev.Action == "grant.token_handed_over" {
		var req pgtype.UUID // NULL unless the target is a request ID: the lookup stays on the primary key
		if u, perr := uuid.Parse(ev.Target); perr == nil {
			req = pgUUID(u)
		}
		class, err := q.ClassificationOfSecret(ctx, db.ClassificationOfSecretParams{TenantID: tid, Secret: secret, RequestID: req})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return f, err
		}
		f.Classification = class
		if secret != "" {
			n, err := q.CountEarlierReveals(ctx, db.CountEarlierRevealsParams{TenantID: pgUUID(tid), Actor: ev.Actor, Secret: secret, Before: ev.ID})
			if err != nil {
				return f, err
			}
			f.FirstReveal = n == 0
		}
	}
	count := func(actor string, actions []string, denied bool, window time.Duration) (int, error) {
		n, err := q.CountRecent(ctx, db.CountRecentParams{TenantID: pgUUID(tid), Actor: actor, Actions: actions, Denied: denied,
			Since: ev.At.Add(-window), Upto: ev.ID})
		return int(n), err
	}
	var err error
	if f.RecentActions, err = count(ev.Actor, []string{"grant.revealed", "grant.token_handed_over", "request.submitted"}, false, st.BurstWindow); err != nil {
		return f, err
	}
	if ev.Denied {
		if f.RecentDenials, err = count(ev.Actor, []string{}, true, st.DeniedWindow); err != nil {
			return f, err
		}
	}
	if ev.Action == "breakglass.started" {
		if f.RecentBreakGlass, err = count("", []string{"breakglass.started"}, false, st.BreakGlassWindow); err != nil {
			return f, err
		}
	}
	return f, nil
}

// Alerts returns one page of the tenant's alerts as q asks, open ones
// first and then newest first, and where the next page starts (zero when
// no alert follows). Only the tenant's own alerts are read, wherever q's
// cursor points. An invalid q or a cursor not made by monitor.Raised.Cursor
// is apperr.Invalid (nothing is read), a malformed tenant ID
// apperr.NotFound, a database failure apperr.Unavailable.
func (s *RequestStore) Alerts(ctx context.Context, tenantID string, q paging.Query) (paging.Page[monitor.Raised], error) {
	open, id, from, err := monitor.AlertPosition(q.Before)
	if err == nil {
		err = q.Check()
	}
	if err != nil {
		return paging.Page[monitor.Raised]{}, err
	}
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return paging.Page[monitor.Raised]{}, errNoRequest
	}
	p := db.ListAlertsPageParams{TenantID: tid, Max: q.Fetch()}
	if from {
		p.BeforeOpen, p.BeforeID = pgtype.Bool{Bool: open, Valid: true}, pgtype.Int8{Int64: id, Valid: true}
	}
	rows, err := db.New(s.pool).ListAlertsPage(ctx, p)
	if err != nil {
		return paging.Page[monitor.Raised]{}, apperr.Wrap(apperr.Unavailable, "The alerts cannot be read right now.", err)
	}
	out := make([]monitor.Raised, 0, len(rows))
	for _, r := range rows {
		out = append(out, monitor.Raised{ID: r.ID, Rule: r.Rule, Score: int(r.Score), Summary: r.Summary, EventID: r.EventID, Actor: r.Actor,
			OccurredAt: r.OccurredAt, AckedAt: r.AckedAt.Time, AckedBy: r.AckedBy})
	}
	return paging.Cut(q, out, monitor.Raised.Cursor), nil
}

// AckAlert acknowledges one of the tenant's alerts, audited.
func (s *RequestStore) AckAlert(ctx context.Context, tenantID string, id int64, actor string, meta audit.Meta) error {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return errNoRequest
	}
	return InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		n, err := q.AckAlert(ctx, db.AckAlertParams{ID: id, TenantID: tid, Now: timestamptz(s.now()), Actor: actor})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "There is no such open alert in your organization.")
		}
		return appendAudit(ctx, q, s.now(), meta.Stamp(audit.Event{TenantID: tenantID, Actor: actor, Action: "alert.acknowledged",
			Target: strconv.FormatInt(id, 10), Outcome: audit.Success}))
	})
}

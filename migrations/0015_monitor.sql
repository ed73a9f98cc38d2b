-- The access monitor: per-tenant rule settings, the scan's cursor over the
-- audit trail, the networks each person was seen on, and alerts.

-- +goose Up
CREATE TABLE monitor_settings (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    settings   jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE monitor_cursor (
    id            int PRIMARY KEY CHECK (id = 1),
    last_event_id bigint NOT NULL
);
INSERT INTO monitor_cursor (id, last_event_id) SELECT 1, coalesce(max(id), 0) FROM audit_events;

CREATE TABLE seen_networks (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor      text NOT NULL,
    network    text NOT NULL,
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, actor, network)
);

CREATE TABLE alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule        text NOT NULL,
    score       int NOT NULL CHECK (score BETWEEN 0 AND 100),
    summary     text NOT NULL,
    event_id    bigint NOT NULL,
    actor       text NOT NULL,
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    acked_at    timestamptz,
    acked_by    text NOT NULL DEFAULT ''
);
CREATE INDEX alerts_tenant ON alerts (tenant_id, acked_at NULLS FIRST, id DESC);
-- The actor's email, for the monitor's per-person counts and the viewer's
-- actor filter (an index lookup, not a scan, at millions of events).
ALTER TABLE audit_events ADD COLUMN actor_email text GENERATED ALWAYS AS (lower(split_part(actor, ' (', 1))) STORED;
CREATE INDEX audit_events_tenant_actor ON audit_events (tenant_id, actor_email, id DESC);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'tenant-admin', '*', 'security', 'view'),
    ('p', 'auditor',      '*', 'security', 'view'),
    ('p', 'tenant-admin', '*', 'security', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'security';
DROP INDEX audit_events_tenant_actor;
ALTER TABLE audit_events DROP COLUMN actor_email;
DROP TABLE alerts;
DROP TABLE seen_networks;
DROP TABLE monitor_cursor;
DROP TABLE monitor_settings;

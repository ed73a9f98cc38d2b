-- Scheduled rotation of cloud secrets, and replication of Vault secrets to
-- cloud stores (Vault the source, cloud secrets the replicas).

-- +goose Up
CREATE TABLE rotation_schedules (
    resource_id   uuid PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    every_seconds bigint NOT NULL CHECK (every_seconds >= 3600),
    value_length  int NOT NULL CHECK (value_length BETWEEN 16 AND 256),
    alphabet      text NOT NULL CHECK (alphabet IN ('urlsafe', 'alnum', 'printable')),
    verify_url    text NOT NULL DEFAULT '',
    next_at       timestamptz NOT NULL,
    last_at       timestamptz,
    last_version  text NOT NULL DEFAULT '',
    last_error    text NOT NULL DEFAULT '',
    updated_by    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rotation_schedules_due ON rotation_schedules (next_at);

CREATE TABLE sync_targets (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_id       uuid NOT NULL REFERENCES resources (id) ON DELETE CASCADE, -- a Vault secret of the catalog
    binding_id      uuid NOT NULL REFERENCES store_bindings (id) ON DELETE CASCADE,
    target_name     text NOT NULL CHECK (length(target_name) BETWEEN 1 AND 255),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'in-sync', 'drifted', 'failed', 'purged')),
    source_version  text NOT NULL DEFAULT '', -- the source version last copied
    target_version  text NOT NULL DEFAULT '', -- the replica version Gatehouse wrote
    detail          text NOT NULL DEFAULT '', -- what drifted (metadata only) or the error
    checked_at      timestamptz,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (binding_id, target_name)
);
CREATE INDEX sync_targets_tenant ON sync_targets (tenant_id);
CREATE INDEX sync_targets_source ON sync_targets (source_id);

-- +goose Down
DROP TABLE sync_targets;
DROP TABLE rotation_schedules;

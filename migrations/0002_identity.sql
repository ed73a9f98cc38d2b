-- Sign-in: one-time login attempts (state, nonce, PKCE verifier), server-side
-- sessions, casbin policy rules, and the audit trail's first table.

-- +goose Up
-- A login attempt is created when a browser is sent to an IdP and consumed
-- exactly once at the callback. Only the SHA-256 of the cookie's id is kept.
CREATE TABLE login_attempts (
    id_hash       bytea PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         text NOT NULL,
    nonce         text NOT NULL,
    pkce_verifier text NOT NULL,
    return_to     text NOT NULL DEFAULT '/',
    step_up       boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    consumed_at   timestamptz
);
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);

-- A session; the cookie holds a random token, the table only its SHA-256.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject      text NOT NULL,
    email        text NOT NULL,
    display_name text NOT NULL,
    groups       text[] NOT NULL,
    roles        text[] NOT NULL,
    issuer       text NOT NULL,
    auth_time    timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL, -- absolute timeout
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_tenant ON sessions (tenant_id);
CREATE INDEX sessions_subject ON sessions (tenant_id, subject);

-- casbin policy rules (RBAC with domains; domain = tenant slug or '*').
CREATE TABLE casbin_rules (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ptype text NOT NULL,
    v0    text NOT NULL DEFAULT '',
    v1    text NOT NULL DEFAULT '',
    v2    text NOT NULL DEFAULT '',
    v3    text NOT NULL DEFAULT '',
    v4    text NOT NULL DEFAULT '',
    v5    text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- Audit events, written in the same transaction as the change they record.
-- Never holds secret values or tokens.
CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid REFERENCES tenants (id),
    occurred_at timestamptz NOT NULL,
    actor       text NOT NULL,   -- "email (subject)" or "system"
    action      text NOT NULL,   -- e.g. login.succeeded, tenant.suspended
    target      text NOT NULL DEFAULT '',
    outcome     text NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE casbin_rules;
DROP TABLE sessions;
DROP TABLE login_attempts;

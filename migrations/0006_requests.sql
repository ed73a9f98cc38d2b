-- Just-in-time access: the tenant's resource catalog with its access
-- policy, requests (with the policy snapshot they were submitted under),
-- approver votes, and grants.

-- +goose Up
CREATE TABLE resources (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description    text NOT NULL DEFAULT '',
    owner_team     text NOT NULL DEFAULT '',
    classification text NOT NULL CHECK (classification IN ('low', 'medium', 'high', 'critical')),
    store_kind     text NOT NULL CHECK (store_kind IN ('vault-kv2')),
    mount          text NOT NULL,
    path           text NOT NULL,
    policy         jsonb NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, mount, path)
);

CREATE TABLE requests (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_id       uuid NOT NULL REFERENCES resources (id),
    requester_subject text NOT NULL,
    requester_email   text NOT NULL,
    requester         jsonb NOT NULL,   -- approvals.Person at submission
    level             text NOT NULL,
    duration_seconds  bigint NOT NULL CHECK (duration_seconds > 0),
    justification     text NOT NULL,
    ticket            text NOT NULL DEFAULT '',
    state             text NOT NULL,
    policy            jsonb NOT NULL,   -- snapshot of the policy in force at submission
    submitted_at      timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    failure_reason    text NOT NULL DEFAULT ''
);
CREATE INDEX requests_tenant_state ON requests (tenant_id, state);
CREATE INDEX requests_requester ON requests (tenant_id, requester_subject, submitted_at DESC);

CREATE TABLE votes (
    request_id       uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    step             int NOT NULL,
    approver_subject text NOT NULL,
    approver         jsonb NOT NULL,
    approve          boolean NOT NULL,
    comment          text NOT NULL DEFAULT '',
    decided_at       timestamptz NOT NULL,
    PRIMARY KEY (request_id, step, approver_subject)  -- one vote per approver per step
);

CREATE TABLE grants (
    request_id  uuid PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    accessor    text NOT NULL DEFAULT '',  -- the Vault token's accessor; never the token
    issued_at   timestamptz,
    expires_at  timestamptz,
    ended_at    timestamptz
);

-- +goose Down
DROP TABLE grants;
DROP TABLE votes;
DROP TABLE requests;
DROP TABLE resources;

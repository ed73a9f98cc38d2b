-- Break-glass emergency access: resources flagged for it (with their
-- maximum window, rotation after the window and drill marking), per-tenant
-- limits and review SLA, break-glass grants as requests of kind
-- 'break-glass' (no votes), their mandatory reviews, and responder flags.

-- +goose Up
-- Whether a session began with a forced fresh authentication (step-up):
-- only such a session, and only for 5 minutes after auth_time, may break glass.
ALTER TABLE sessions ADD COLUMN step_up boolean NOT NULL DEFAULT false;

ALTER TABLE resources
    ADD COLUMN breakglass             boolean NOT NULL DEFAULT false,
    ADD COLUMN breakglass_max_seconds bigint  NOT NULL DEFAULT 3600 CHECK (breakglass_max_seconds BETWEEN 60 AND 86400),
    ADD COLUMN breakglass_rotate      boolean NOT NULL DEFAULT false,
    ADD COLUMN breakglass_drill       boolean NOT NULL DEFAULT false;

ALTER TABLE requests
    ADD COLUMN kind     text    NOT NULL DEFAULT 'jit' CHECK (kind IN ('jit', 'break-glass')),
    ADD COLUMN incident text    NOT NULL DEFAULT '',
    ADD COLUMN drill    boolean NOT NULL DEFAULT false;
CREATE INDEX requests_breakglass ON requests (tenant_id, submitted_at DESC) WHERE kind = 'break-glass';

CREATE TABLE breakglass_limits (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    per_responder      int    NOT NULL CHECK (per_responder BETWEEN 1 AND 10),
    per_tenant         int    NOT NULL CHECK (per_tenant BETWEEN 1 AND 100),
    review_sla_seconds bigint NOT NULL CHECK (review_sla_seconds BETWEEN 3600 AND 604800),
    updated_by         text   NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE breakglass_reviews (
    request_id        uuid PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    due_at            timestamptz NOT NULL,
    verdict           text CHECK (verdict IN ('justified', 'not-justified')),
    notes             text NOT NULL DEFAULT '',
    reviewer          jsonb,
    reviewed_at       timestamptz,
    escalations       int NOT NULL DEFAULT 0,
    last_escalated_at timestamptz,
    rotated_version   int,          -- the KV version written when the window ended
    rotated_at        timestamptz
);
CREATE INDEX breakglass_reviews_open ON breakglass_reviews (due_at) WHERE verdict IS NULL;

-- A responder whose break-glass was reviewed "not justified".
CREATE TABLE responder_flags (
    request_id uuid PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject    text NOT NULL,
    email      text NOT NULL,
    flagged_at timestamptz NOT NULL
);
CREATE INDEX responder_flags_subject ON responder_flags (tenant_id, subject);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'responder',    '*', 'breakglass', 'use'),
    ('p', 'responder',    '*', 'breakglass', 'view'),
    ('p', 'approver',     '*', 'breakglass', 'view'),
    ('p', 'tenant-admin', '*', 'breakglass', 'view'),
    ('p', 'auditor',      '*', 'breakglass', 'view'),
    ('p', 'approver',     '*', 'breakglass', 'review'),
    -- Holding a grant is separate from requesting one: responders hold break-glass grants.
    ('p', 'requester',    '*', 'grants', 'use'),
    ('p', 'responder',    '*', 'grants', 'use');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 IN ('breakglass', 'grants');
DROP TABLE responder_flags;
DROP TABLE breakglass_reviews;
DROP TABLE breakglass_limits;
DROP INDEX requests_breakglass;
ALTER TABLE requests DROP COLUMN kind, DROP COLUMN incident, DROP COLUMN drill;
ALTER TABLE sessions DROP COLUMN step_up;
ALTER TABLE resources DROP COLUMN breakglass, DROP COLUMN breakglass_max_seconds, DROP COLUMN breakglass_rotate, DROP COLUMN breakglass_drill;

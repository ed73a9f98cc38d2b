-- Emergency revocation: a revocation of a scope (grant, user, resource,
-- share, tenant, identity provider) is also the block on new access in that
-- scope until it is lifted; its items are the grants it revokes, each
-- verified dead, so a run interrupted anywhere resumes where it stopped.

-- +goose Up
CREATE TABLE revocations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_kind     text NOT NULL CHECK (scope_kind IN ('grant', 'user', 'resource', 'share', 'tenant', 'idp')),
    scope_value    text NOT NULL,   -- request ID, email, resource ID, share ID, tenant slug, tenant slug
    tenant_id      uuid REFERENCES tenants (id) ON DELETE CASCADE,  -- the scope's tenant; NULL for a user across tenants
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    actor          text NOT NULL,
    rotate         boolean NOT NULL DEFAULT false,
    state          text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed')),
    sessions_ended int NOT NULL DEFAULT 0,
    rotated        jsonb NOT NULL DEFAULT '[]',
    created_at     timestamptz NOT NULL,
    completed_at   timestamptz,
    lifted_at      timestamptz,   -- the block ends when lifted
    lifted_by      text NOT NULL DEFAULT ''
);
CREATE INDEX revocations_blocking ON revocations (scope_kind, scope_value) WHERE lifted_at IS NULL;
CREATE INDEX revocations_tenant ON revocations (tenant_id, created_at DESC);

CREATE TABLE revocation_items (
    revocation_id uuid NOT NULL REFERENCES revocations (id) ON DELETE CASCADE,
    request_id    uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified', 'failed')),
    attempts      int NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (revocation_id, request_id)
);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'tenant-admin',      '*', 'revocations', 'manage'),
    ('p', 'platform-operator', '*', 'revocations', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'revocations';
DROP TABLE revocation_items;
DROP TABLE revocations;

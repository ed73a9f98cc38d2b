-- Cross-organization sharing: shares (owner, recipient, terms, the owner's
-- share policy when proposed, state), their resources and owner votes, and
-- requests made under a share by a member of the recipient tenant (the
-- request lives in the owner's tenant, where the resource and its grant are).

-- +goose Up
CREATE TABLE shares (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    recipient_tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    recipients          jsonb NOT NULL,   -- approvals.Audience of the recipient tenant
    level               text NOT NULL CHECK (level IN ('read', 'read-write')),
    term_end            timestamptz NOT NULL,
    purpose             text NOT NULL,
    mode                text NOT NULL CHECK (mode IN ('pre-approved', 'per-access')),
    max_grant_seconds   bigint NOT NULL CHECK (max_grant_seconds BETWEEN 60 AND 86400),
    recipient_approvals int NOT NULL DEFAULT 0,
    owner_approvals     int NOT NULL DEFAULT 0,
    policy              jsonb NOT NULL,   -- the owner's share policy when proposed
    proposer            jsonb NOT NULL,
    state               text NOT NULL,
    proposed_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    offered_at          timestamptz,      -- when the owner's approvers approved it: from then on the recipient sees it
    decided_at          timestamptz,      -- the recipient's acceptance or refusal
    decided_by          text NOT NULL DEFAULT '',
    decision_comment    text NOT NULL DEFAULT '',
    ended_by            text NOT NULL DEFAULT '',
    ended_at            timestamptz,
    end_reason          text NOT NULL DEFAULT '',
    CHECK (owner_tenant_id <> recipient_tenant_id)
);
CREATE INDEX shares_owner ON shares (owner_tenant_id, proposed_at DESC);
CREATE INDEX shares_recipient ON shares (recipient_tenant_id, proposed_at DESC);

-- An organization's share policy (the default until its admins set one).
CREATE TABLE share_policies (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    policy     jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE share_resources (
    share_id    uuid NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    resource_id uuid NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    PRIMARY KEY (share_id, resource_id)
);

CREATE TABLE share_votes (
    share_id         uuid NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    approver_subject text NOT NULL,
    approver         jsonb NOT NULL,
    approve          boolean NOT NULL,
    comment          text NOT NULL DEFAULT '',
    decided_at       timestamptz NOT NULL,
    PRIMARY KEY (share_id, approver_subject)
);

ALTER TABLE requests
    ADD COLUMN share_id            uuid REFERENCES shares (id),
    ADD COLUMN requester_tenant_id uuid REFERENCES tenants (id);  -- set when the requester is of another tenant (a share's recipient)
CREATE INDEX requests_share ON requests (share_id) WHERE share_id IS NOT NULL;
CREATE INDEX requests_requester_tenant ON requests (requester_tenant_id, requester_subject) WHERE requester_tenant_id IS NOT NULL;

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'tenant-admin', '*', 'shares', 'view'),
    ('p', 'approver',     '*', 'shares', 'view'),
    ('p', 'auditor',      '*', 'shares', 'view'),
    ('p', 'tenant-admin', '*', 'shares', 'manage'),
    ('p', 'approver',     '*', 'shares', 'decide');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'shares';
DROP INDEX requests_requester_tenant;
DROP INDEX requests_share;
ALTER TABLE requests DROP COLUMN share_id, DROP COLUMN requester_tenant_id;
DROP TABLE share_votes;
DROP TABLE share_resources;
DROP TABLE share_policies;
DROP TABLE shares;

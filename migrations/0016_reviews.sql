-- Access reviews (SOC 2 CC6.1): periodic campaigns in which tenant admins
-- recertify standing roles (IdP group mappings), long-running shares and
-- break-glass eligibility, each item kept or revoked.

-- +goose Up
CREATE TABLE review_campaigns (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    due_at       timestamptz NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    reminded_at  timestamptz
);
CREATE INDEX review_campaigns_tenant ON review_campaigns (tenant_id, created_at DESC);

CREATE TABLE review_items (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id uuid NOT NULL REFERENCES review_campaigns (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('role-mapping', 'share', 'breakglass-eligibility')),
    ref         text NOT NULL,   -- "group\trole", a share ID, a resource ID
    label       text NOT NULL,
    decision    text CHECK (decision IN ('keep', 'revoke')),
    note        text NOT NULL DEFAULT '',
    decided_by  text NOT NULL DEFAULT '',
    decided_at  timestamptz
);
CREATE INDEX review_items_campaign ON review_items (campaign_id);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'tenant-admin', '*', 'reviews', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'reviews';
DROP TABLE review_items;
DROP TABLE review_campaigns;

-- Per-tenant notification channels.

-- +goose Up
CREATE TABLE tenant_channels (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_url text NOT NULL DEFAULT '',
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'tenant-admin', '*', 'tenant.settings', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v2 = 'tenant.settings';
DROP TABLE tenant_channels;

-- The console's audit viewer: keyset paging by id within a tenant (fast at
-- millions of rows), and the record of each verification of the chains.

-- +goose Up
CREATE INDEX audit_events_tenant_id ON audit_events (tenant_id, id DESC);
CREATE INDEX audit_events_tenant_action ON audit_events (tenant_id, action, id DESC);

CREATE TABLE audit_verifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,  -- NULL: every chain
    verified_at timestamptz NOT NULL,
    verified_by text NOT NULL,
    chains      int NOT NULL,
    events      bigint NOT NULL,
    problems    jsonb NOT NULL   -- [{chain, seq, what}], empty when intact
);
CREATE INDEX audit_verifications_tenant ON audit_verifications (tenant_id, verified_at DESC);

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'auditor',           '*', 'audit', 'view'),
    ('p', 'tenant-admin',      '*', 'audit', 'view'),
    ('p', 'platform-operator', '*', 'audit', 'view');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'audit';
DROP TABLE audit_verifications;
DROP INDEX audit_events_tenant_action;
DROP INDEX audit_events_tenant_id;

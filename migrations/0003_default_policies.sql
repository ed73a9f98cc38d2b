-- Default authorization policies (casbin p rules: role, tenant, object, action).
-- "*" grants in every tenant; platform permissions are granted only in the
-- platform operators' own tenant, "gatehouse".

-- +goose Up
INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'requester',         '*', 'console', 'view'),
    ('p', 'approver',          '*', 'console', 'view'),
    ('p', 'tenant-admin',      '*', 'console', 'view'),
    ('p', 'auditor',           '*', 'console', 'view'),
    ('p', 'responder',         '*', 'console', 'view'),
    ('p', 'platform-operator', '*', 'console', 'view'),
    ('p', 'tenant-admin',      '*', 'tenant.members', 'view'),
    ('p', 'auditor',           '*', 'tenant.members', 'view'),
    ('p', 'tenant-admin',      '*', 'tenant.mappings', 'manage'),
    ('p', 'platform-operator', 'gatehouse', 'platform.tenants', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 IN ('*', 'gatehouse');

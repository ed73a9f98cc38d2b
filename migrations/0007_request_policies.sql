-- Permissions of the just-in-time access pages.

-- +goose Up
INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES
    ('p', 'requester',    '*', 'catalog', 'view'),
    ('p', 'approver',     '*', 'catalog', 'view'),
    ('p', 'tenant-admin', '*', 'catalog', 'view'),
    ('p', 'responder',    '*', 'catalog', 'view'),
    ('p', 'requester',    '*', 'requests', 'create'),
    ('p', 'approver',     '*', 'requests', 'decide'),
    ('p', 'tenant-admin', '*', 'catalog', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 IN ('catalog', 'requests');

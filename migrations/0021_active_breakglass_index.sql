-- The break-glass banner is read on every console page: index exactly the
-- rows it reads (a tenant's active break-glass grants), so its cost does
-- not grow with the tenant's other active grants.

-- +goose Up
CREATE INDEX requests_active_breakglass ON requests (tenant_id) WHERE kind = 'break-glass' AND state = 'active';

-- +goose Down
DROP INDEX requests_active_breakglass;

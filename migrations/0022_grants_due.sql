-- The expiry sweeper reads the grants whose time is up every second.

-- +goose Up
CREATE INDEX grants_due ON grants (expires_at) WHERE ended_at IS NULL;

-- +goose Down
DROP INDEX grants_due;

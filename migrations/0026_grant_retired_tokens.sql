-- A grant's tokens replaced by a newer one (its holder took another) stay
-- recorded until their revocation is verified: taking a token revokes the
-- ones it replaces, and when that fails their accessors are kept here, so
-- relinquish, expiry and emergency revocation still revoke them by accessor.
-- Gatehouse knows the accessor of every live token it handed out.

-- +goose Up
ALTER TABLE grants ADD COLUMN retired_accessors text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE grants DROP COLUMN retired_accessors;

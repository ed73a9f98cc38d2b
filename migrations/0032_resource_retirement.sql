-- Retiring catalog entries: a retired resource stays in the table (its
-- requests, grants, shares and audit events keep pointing at it) but is
-- out of the catalog: nobody can request it, break glass on it or share
-- it, and it is listed apart for tenant admins, who can restore it.
-- retired_at is NULL while the resource is in the catalog; who retired it
-- and why are kept beside it for the admin's page (the audit trail has
-- them too) and cleared on restore.

-- +goose Up
ALTER TABLE resources
    ADD COLUMN retired_at     timestamptz,
    ADD COLUMN retired_by     text NOT NULL DEFAULT '',
    ADD COLUMN retired_reason text NOT NULL DEFAULT '',
    ADD CONSTRAINT resources_retired_check CHECK (retired_at IS NOT NULL OR (retired_by = '' AND retired_reason = ''));

-- +goose Down
ALTER TABLE resources
    DROP CONSTRAINT resources_retired_check,
    DROP COLUMN retired_reason,
    DROP COLUMN retired_by,
    DROP COLUMN retired_at;

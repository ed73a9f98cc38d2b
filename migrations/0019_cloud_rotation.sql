-- Rotation after break-glass also covers cloud secrets, whose versions are
-- IDs rather than numbers: the recorded version becomes text ('0' still
-- means the rotation failed for good).

-- +goose Up
ALTER TABLE breakglass_reviews ALTER COLUMN rotated_version TYPE text USING rotated_version::text;

-- +goose Down
UPDATE breakglass_reviews SET rotated_version = '1' WHERE rotated_version !~ '^[0-9]+$';
ALTER TABLE breakglass_reviews ALTER COLUMN rotated_version TYPE int USING rotated_version::int;

-- A revocation tells each holder once, when it completes, which of their
-- grants it ended: an item records whether this revocation ended its grant
-- (false: another path had ended it, or it is not done yet).

-- +goose Up
ALTER TABLE revocation_items ADD COLUMN ended boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE revocation_items DROP COLUMN ended;

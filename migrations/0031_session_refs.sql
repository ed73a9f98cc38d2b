-- "Your sessions": each session gets an opaque reference, so a person can
-- name one of their other sessions in a form (to end it) without the page
-- ever holding the cookie's token or its SHA-256 (id_hash). The reference
-- is random, unrelated to the token, and the store resolves it only for the
-- session's own tenant and subject. Existing sessions get one each.

-- +goose Up
ALTER TABLE sessions ADD COLUMN ref uuid NOT NULL DEFAULT gen_random_uuid();

-- +goose Down
ALTER TABLE sessions DROP COLUMN ref;

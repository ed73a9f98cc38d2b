-- "Your sessions" shows where each session was last used from, not only
-- where it signed in: a cookie used from an address its owner does not
-- recognise is the sign of a stolen session. Resume records the client
-- address whenever it differs from the last one recorded (and refreshes it
-- with last_seen_at once a minute). Existing sessions start from their
-- sign-in address.

-- +goose Up
ALTER TABLE sessions ADD COLUMN last_ip text NOT NULL DEFAULT '';
UPDATE sessions SET last_ip = ip;

-- +goose Down
ALTER TABLE sessions DROP COLUMN last_ip;

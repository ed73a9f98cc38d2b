-- Notices are kept for a retention period (jobs.SweepNoticesArgs): the
-- sweep deletes the oldest settled ones in small batches. Index the
-- notices by when they were sent, so each batch reads the oldest rows
-- instead of the whole table. enqueued_at never changes, so delivery
-- updates stay HOT (no index on state).

-- +goose Up
CREATE INDEX notices_enqueued ON notices (enqueued_at);

-- +goose Down
DROP INDEX notices_enqueued;

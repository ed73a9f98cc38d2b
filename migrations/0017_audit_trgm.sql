-- The audit viewer's search by a part of the actor: a trigram index, so it
-- stays an index lookup at millions of events. pg_trgm is a trusted
-- extension (the database owner may create it); where it is unavailable the
-- search still works, by a scan.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX audit_events_actor_trgm ON audit_events USING gin (actor gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the actor search by a part of the name scans', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS audit_events_actor_trgm;

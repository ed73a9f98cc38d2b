-- The rate limits' buckets (handlers/ratelimit.go), shared by every replica:
-- one row per (class, key), holding the bucket's "theoretical arrival time"
-- (GCRA, postgres/ratelimits.go). class is "sign-in" (key: the client
-- address, an IPv6 address by its /64) or "change" (key: the session's ID,
-- the SHA-256 of its cookie as in sessions.id, never the cookie).
--
-- A row whose tat has passed is a full bucket, exactly as no row is, so the
-- sweep (jobs.SweepRateLimitsArgs) deletes such rows and nothing is lost.
--
-- UNLOGGED: every limited request updates a row here, and none of it is
-- worth a WAL record. The table is not crash-safe (PostgreSQL empties it
-- after a crash) and not copied to standbys (empty after a failover): both
-- only refill every bucket once, a burst's worth of extra requests per key
-- at such a moment, which a limiter can afford. In exchange each check
-- writes no WAL and waits for no WAL flush or synchronous standby.
--
-- fillfactor 70 and no index on tat: tat changes at every check, so it is
-- left out of every index, keeping each update HOT (in-page, no index
-- write); the free space per page gives those updates room. The sweep
-- scans the table, which holds only buckets used within their refill time.

-- +goose Up
CREATE UNLOGGED TABLE rate_limits (
    class text NOT NULL,
    key   text NOT NULL,
    tat   timestamptz NOT NULL,
    PRIMARY KEY (class, key)
) WITH (fillfactor = 70);

-- +goose Down
DROP TABLE rate_limits;

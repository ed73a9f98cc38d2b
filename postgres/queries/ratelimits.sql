-- name: TakeRateLimit :one
-- Spends one request at now from the bucket (class, bucket), by GCRA: tat
-- is the time the bucket is full again; each request moves it one step
-- (1/rate) on from now or from itself, whichever is later; and a request is
-- allowed while tat is at most tolerance ((burst − 1) steps) ahead of now,
-- i.e. while the bucket holds a whole request. No row (a new key, or one
-- swept) is a full bucket, so the insert is always allowed. It returns the
-- new tat when the request is allowed and no row when it is refused (the
-- row is left as it was). One statement: concurrent requests on one key
-- queue on its row lock, and each sees the tat the one before it left.
-- (sqlc.arg, not @name: sqlc 1.30 cannot rewrite @name casts in this INSERT.)
INSERT INTO rate_limits (class, key, tat)
VALUES (sqlc.arg(class), sqlc.arg(bucket), sqlc.arg(now)::timestamptz + sqlc.arg(step)::interval)
ON CONFLICT (class, key) DO UPDATE
    SET tat = GREATEST(rate_limits.tat, sqlc.arg(now)::timestamptz) + sqlc.arg(step)::interval
    WHERE rate_limits.tat <= sqlc.arg(now)::timestamptz + sqlc.arg(tolerance)::interval
RETURNING tat;

-- name: DeleteFullRateLimits :execrows
-- Deletes up to @batch buckets that are full again at @now (tat passed):
-- such a row means what no row means. Rows a check holds are skipped,
-- never waited for; one updated meanwhile is re-checked against @now.
DELETE FROM rate_limits WHERE (class, key) IN (
    SELECT r.class, r.key FROM rate_limits r
    WHERE r.tat <= @now
    LIMIT @batch
    FOR UPDATE SKIP LOCKED
);

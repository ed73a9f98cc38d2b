-- name: InsertNotices :exec
-- Records notices, one per element of the arrays (arrays of one length, in
-- lockstep; recipients: each a JSON array of addresses), in one statement.
INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, urgent, enqueued_at)
SELECT n.id, n.tenant_id, n.ref, n.channel, ARRAY(SELECT jsonb_array_elements_text(n.recipients)), n.subject, n.urgent, @enqueued_at::timestamptz
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@tenant_ids::uuid[]) AS tenant_id, unnest(@refs::text[]) AS ref,
             unnest(@channels::text[]) AS channel, unnest(@recipients::jsonb[]) AS recipients,
             unnest(@subjects::text[]) AS subject, unnest(@urgents::boolean[]) AS urgent) n;

-- name: ListLatestNotices :many
-- The latest @max notices about the tenant's object ref (the newest in the
-- notices' strict order, enqueued_at DESC, id DESC, read from the index
-- notices_ref_page), listed in the order they were sent (email before chat
-- within one event).
SELECT latest.* FROM (
    SELECT * FROM notices WHERE tenant_id = @tenant_id AND ref = @ref
    ORDER BY enqueued_at DESC, id DESC LIMIT @max
) latest
ORDER BY latest.enqueued_at, latest.channel DESC, latest.id;

-- name: CountNotices :one
-- How many notices about the tenant's object ref there are (an index-only
-- scan of notices_ref_page).
SELECT count(*) FROM notices WHERE tenant_id = @tenant_id AND ref = @ref;

-- name: RecordNoticeAttempt :execrows
-- One attempt's outcome. A delivered notice stays delivered (a job rescued
-- from a dead replica may send it twice).
UPDATE notices SET state = @state, attempts = greatest(attempts, @attempt::int), reason = @reason, attempted_at = @at
WHERE id = @id AND state <> 'delivered';

-- name: ListNoticesPage :many
-- Up to @max of the tenant's notices in @state ('' for any), newest first
-- in the strict order (enqueued_at DESC, id DESC), after the keyset
-- (@before_at, @before_id) — from the newest when both are null. The
-- keyset comparison runs in the same direction as the order, so paging
-- neither skips nor repeats notices enqueued at the same instant; the
-- index notices_page (tenant_id, enqueued_at DESC, id DESC) serves both.
SELECT * FROM notices
WHERE tenant_id = @tenant_id
  AND (enqueued_at, id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                           coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
  AND (@state::text = '' OR state = @state::text)
ORDER BY enqueued_at DESC, id DESC
LIMIT @max;

-- name: ListRefNoticesPage :many
-- ListNoticesPage narrowed to the notices about the tenant's object @ref:
-- the same order and keyset, served by the index notices_ref_page
-- (tenant_id, ref, enqueued_at DESC, id DESC). A query of its own, not an
-- optional condition of ListNoticesPage, so that a cached generic plan
-- always has ref to look up in the index.
SELECT * FROM notices
WHERE tenant_id = @tenant_id AND ref = @ref
  AND (enqueued_at, id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                           coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
  AND (@state::text = '' OR state = @state::text)
ORDER BY enqueued_at DESC, id DESC
LIMIT @max;

-- name: DeleteExpiredNotices :execrows
-- Deletes up to @batch of the oldest notices sent before @before whose
-- delivery is settled (delivered, failed, not-sent: never one pending or
-- retrying), except those about a break-glass whose review is still open
-- (in either organization: its page shows who was told). Rows another
-- sweep holds are skipped, never waited for.
DELETE FROM notices WHERE id IN (
    SELECT n.id FROM notices n
    WHERE n.enqueued_at < @before AND n.state IN ('delivered', 'failed', 'not-sent')
      AND NOT EXISTS (SELECT 1 FROM breakglass_reviews rv WHERE rv.verdict IS NULL AND rv.request_id::text = n.ref)
    ORDER BY n.enqueued_at
    LIMIT @batch
    FOR UPDATE SKIP LOCKED
);

-- name: SettleLostNotices :execrows
-- Settles as failed, with @reason, up to @batch of the oldest notices
-- still pending or retrying that were sent before @before (their delivery
-- job is lost: see jobs.NoticeLostAfter), read through notices_unsettled.
-- Rows another transaction holds (a delivery being recorded) are skipped.
-- A late outcome from the job, should it still run, replaces this one
-- (RecordNoticeAttempt).
UPDATE notices SET state = 'failed', reason = @reason
WHERE id IN (
    SELECT n.id FROM notices n
    WHERE n.state IN ('pending', 'retrying') AND n.enqueued_at < @before
    ORDER BY n.enqueued_at
    LIMIT @batch
    FOR UPDATE SKIP LOCKED
);

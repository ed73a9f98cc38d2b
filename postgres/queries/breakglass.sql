-- name: SetResourceBreakGlass :execrows
UPDATE resources SET breakglass = @enabled, breakglass_max_seconds = @max_seconds,
    breakglass_rotate = @rotate, breakglass_drill = @drill
WHERE id = @id AND tenant_id = @tenant_id;

-- name: GetBreakGlassLimits :one
SELECT per_responder, per_tenant, review_sla_seconds FROM breakglass_limits WHERE tenant_id = @tenant_id;

-- name: UpsertBreakGlassLimits :exec
INSERT INTO breakglass_limits (tenant_id, per_responder, per_tenant, review_sla_seconds, updated_by)
VALUES (@tenant_id, @per_responder, @per_tenant, @review_sla_seconds, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET per_responder = excluded.per_responder, per_tenant = excluded.per_tenant,
    review_sla_seconds = excluded.review_sla_seconds, updated_by = excluded.updated_by, updated_at = now();

-- name: CountActiveBreakGlass :one
-- The break-glasses in force of the tenant's responders, as
-- approvals.InForce counts them (drills apart from real ones): on its own
-- resources and on resources shared with it (those live in the owner's
-- tenant, requester_tenant_id naming the responder's).
SELECT count(*) FILTER (WHERE requester_subject = @subject AND NOT drill) AS by_responder,
       count(*) FILTER (WHERE NOT drill) AS in_tenant,
       count(*) FILTER (WHERE requester_subject = @subject AND drill) AS drills_by_responder
FROM requests
WHERE coalesce(requester_tenant_id, tenant_id) = @tenant_id::uuid AND kind = 'break-glass' AND state IN ('approved', 'issuing', 'active');

-- name: InsertBreakGlassRequest :one
-- tenant_id owns the resource; under a share, share_id and the responder's
-- requester_tenant_id are set.
INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
                      justification, incident, kind, drill, state, policy, submitted_at, updated_at, share_id, requester_tenant_id)
VALUES (@tenant_id, @resource_id, @requester_subject, @requester_email, @requester, 'read', @duration_seconds,
        @justification, @incident, 'break-glass', @drill, 'issuing', @policy, @submitted_at, @submitted_at,
        sqlc.narg(share_id)::uuid, sqlc.narg(requester_tenant_id)::uuid)
RETURNING id;

-- name: InsertBreakGlassReview :exec
INSERT INTO breakglass_reviews (request_id, tenant_id, due_at) VALUES (@request_id, @tenant_id, @due_at);

-- name: ListBreakGlassPage :many
-- Up to @max of the break-glasses of the tenant (its own, and those its
-- members opened under a share), newest first in the strict order
-- (submitted_at DESC, id DESC), after the keyset (@before_at, @before_id)
-- — from the newest when both are null. Each side is read in that order
-- from its own index, the keyset comparison its index condition
-- (requests_breakglass_page, requests_breakglass_requester: migration
-- 0038), and only the page's rows are joined.
WITH page AS (
    (SELECT q.id, q.submitted_at FROM requests q
     WHERE q.tenant_id = @tenant_id AND q.kind = 'break-glass'
       AND (q.submitted_at, q.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                     coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
     ORDER BY q.submitted_at DESC, q.id DESC LIMIT @max)
    UNION
    (SELECT q.id, q.submitted_at FROM requests q
     WHERE q.requester_tenant_id = @tenant_id AND q.kind = 'break-glass'
       AND (q.submitted_at, q.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                     coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
     ORDER BY q.submitted_at DESC, q.id DESC LIMIT @max)
    ORDER BY submitted_at DESC, id DESC LIMIT @max
)
SELECT r.id, r.state, r.requester, r.duration_seconds, r.incident, r.drill, r.submitted_at, r.failure_reason,
       res.name AS resource_name, g.expires_at, rv.due_at, rv.verdict, rv.reviewed_at
FROM page p
JOIN requests r ON r.id = p.id
JOIN resources res ON res.id = r.resource_id
JOIN breakglass_reviews rv ON rv.request_id = r.id
LEFT JOIN grants g ON g.request_id = r.id
ORDER BY r.submitted_at DESC, r.id DESC;

-- name: GetBreakGlassReview :one
-- (The caller has read the request in its tenant: the owner's or, under a
-- share, the responder's, whose approvers review it.)
SELECT * FROM breakglass_reviews WHERE request_id = @request_id;

-- name: LockBreakGlassReview :one
SELECT rv.*, r.requester, r.drill, res.name AS resource_name
FROM breakglass_reviews rv JOIN requests r ON r.id = rv.request_id JOIN resources res ON res.id = r.resource_id
WHERE rv.request_id = @request_id AND rv.tenant_id = @tenant_id
FOR UPDATE OF rv;

-- name: SetBreakGlassVerdict :exec
UPDATE breakglass_reviews SET verdict = @verdict, notes = @notes, reviewer = @reviewer, reviewed_at = @reviewed_at
WHERE request_id = @request_id;

-- name: InsertResponderFlag :exec
INSERT INTO responder_flags (request_id, tenant_id, subject, email, flagged_at)
VALUES (@request_id, @tenant_id, @subject, @email, @flagged_at);

-- name: ListResponderFlags :many
-- Flags from drills (recorded before drills stopped flagging) do not count.
SELECT f.subject, f.email, count(*) AS flags, max(f.flagged_at)::timestamptz AS last_flagged_at
FROM responder_flags f JOIN requests r ON r.id = f.request_id
WHERE f.tenant_id = @tenant_id AND NOT r.drill
GROUP BY f.subject, f.email ORDER BY f.email;

-- name: LockReviewsToEscalate :many
-- Unreviewed break-glasses due an escalation now, the longest due first:
-- next_escalation_at is approvals.NextEscalation (when the review became
-- overdue, then a full SLA after each escalation), so a batch never fills
-- up with overdue reviews escalated a moment ago.
SELECT rv.request_id, rv.tenant_id, rv.due_at, rv.escalations, rv.last_escalated_at, r.requester_email, r.drill,
       res.name AS resource_name, coalesce(l.review_sla_seconds, 86400)::bigint AS review_sla_seconds,
       (CASE WHEN rv.last_escalated_at IS NULL THEN rv.due_at
             ELSE greatest(rv.due_at, rv.last_escalated_at + coalesce(l.review_sla_seconds, 86400) * interval '1 second')
        END)::timestamptz AS next_escalation_at
FROM breakglass_reviews rv
JOIN requests r ON r.id = rv.request_id
JOIN resources res ON res.id = r.resource_id
LEFT JOIN breakglass_limits l ON l.tenant_id = rv.tenant_id
WHERE rv.verdict IS NULL AND rv.due_at <= @now
  AND (rv.last_escalated_at IS NULL
       OR rv.last_escalated_at + coalesce(l.review_sla_seconds, 86400) * interval '1 second' <= @now)
ORDER BY next_escalation_at LIMIT 500
FOR UPDATE OF rv SKIP LOCKED;

-- name: MarkEscalated :exec
UPDATE breakglass_reviews SET escalations = escalations + 1, last_escalated_at = @at WHERE request_id = @request_id;

-- name: RecordRotation :exec
UPDATE breakglass_reviews SET rotated_version = @version, rotated_at = @at WHERE request_id = @request_id;

-- name: ActiveBreakGlassIn :many
SELECT r.id, r.requester_email, r.drill, res.name AS resource_name, g.expires_at
FROM requests r JOIN resources res ON res.id = r.resource_id JOIN grants g ON g.request_id = r.id
WHERE (r.tenant_id = @tenant_id OR r.requester_tenant_id = @tenant_id) AND r.kind = 'break-glass' AND r.state = 'active'
ORDER BY g.expires_at;

-- name: GetTenantSlug :one
SELECT slug FROM tenants WHERE id = @id;

-- name: GetTenantDisplayName :one
SELECT display_name FROM tenants WHERE id = @id;

-- name: InsertShare :one
INSERT INTO shares (owner_tenant_id, recipient_tenant_id, recipients, level, term_end, purpose, mode, max_grant_seconds,
                    recipient_approvals, owner_approvals, policy, proposer, state, proposed_at, updated_at)
VALUES (@owner_tenant_id, @recipient_tenant_id, @recipients, @level, @term_end, @purpose, @mode, @max_grant_seconds,
        @recipient_approvals, @owner_approvals, @policy, @proposer, 'proposed', @now, @now)
RETURNING id;

-- name: InsertShareResource :exec
INSERT INTO share_resources (share_id, resource_id) VALUES (@share_id, @resource_id);

-- name: GetTenantForShare :one
SELECT id, display_name, status FROM tenants WHERE slug = @slug;

-- name: ListShareTargets :many
SELECT slug, display_name FROM tenants WHERE id <> @tenant_id AND status = 'active' AND slug <> 'gatehouse' ORDER BY display_name;

-- name: GetShareVisible :one
-- The owner sees its shares; the recipient from the moment the owner's approvers approved one.
SELECT s.*, o.display_name AS owner_name, o.slug AS owner_slug, r.display_name AS recipient_name, r.slug AS recipient_slug
FROM shares s JOIN tenants o ON o.id = s.owner_tenant_id JOIN tenants r ON r.id = s.recipient_tenant_id
WHERE s.id = @id AND (s.owner_tenant_id = @tenant_id OR (s.recipient_tenant_id = @tenant_id AND s.offered_at IS NOT NULL));

-- name: LockShare :one
SELECT * FROM shares WHERE id = @id FOR UPDATE;

-- name: LockShareForAccess :one
SELECT * FROM shares WHERE id = @id FOR SHARE;

-- name: ListShareResources :many
SELECT res.* FROM share_resources sr JOIN resources res ON res.id = sr.resource_id
WHERE sr.share_id = @share_id ORDER BY res.name;

-- name: ListShareVotes :many
SELECT * FROM share_votes WHERE share_id = @share_id ORDER BY decided_at;

-- name: InsertShareVote :exec
INSERT INTO share_votes (share_id, approver_subject, approver, approve, comment, decided_at)
VALUES (@share_id, @approver_subject, @approver, @approve, @comment, @decided_at);

-- name: SetShareState :exec
UPDATE shares SET state = @state, updated_at = @now,
    offered_at = CASE WHEN @state = 'awaiting-acceptance' THEN @now ELSE offered_at END
WHERE id = @id;

-- name: SetShareDecision :exec
UPDATE shares SET state = @state, updated_at = @now, decided_at = @now, decided_by = @decided_by, decision_comment = @comment
WHERE id = @id;

-- name: SetShareEnded :exec
UPDATE shares SET state = 'ended', updated_at = @now, ended_at = @now, ended_by = @ended_by, end_reason = @reason
WHERE id = @id;

-- name: ListSharesPage :many
-- Up to @max of the tenant's shares, outgoing (it owns them) and incoming
-- (offered to it), newest first in the strict order (proposed_at DESC, id
-- DESC), after the keyset (@before_at, @before_id) — from the newest when
-- both are null. Each side is read in that order from its own index
-- (shares_owner, shares_recipient: a tenant's shares are few, so those
-- proposed at one instant are sorted by ID as they are read), and only the
-- page's rows are joined.
WITH page AS (
    (SELECT q.id, q.proposed_at FROM shares q
     WHERE q.owner_tenant_id = @tenant_id
       AND (q.proposed_at, q.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                    coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
     ORDER BY q.proposed_at DESC, q.id DESC LIMIT @max)
    UNION
    (SELECT q.id, q.proposed_at FROM shares q
     WHERE q.recipient_tenant_id = @tenant_id AND q.offered_at IS NOT NULL
       AND (q.proposed_at, q.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                    coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
     ORDER BY q.proposed_at DESC, q.id DESC LIMIT @max)
    ORDER BY proposed_at DESC, id DESC LIMIT @max
)
SELECT s.id, s.state, s.mode, s.level, s.term_end, s.purpose, s.proposed_at, s.owner_tenant_id, s.recipient_tenant_id,
       o.display_name AS owner_name, r.display_name AS recipient_name,
       (SELECT count(*) FROM share_resources sr WHERE sr.share_id = s.id) AS resources
FROM page p JOIN shares s ON s.id = p.id JOIN tenants o ON o.id = s.owner_tenant_id JOIN tenants r ON r.id = s.recipient_tenant_id
ORDER BY s.proposed_at DESC, s.id DESC;

-- name: ListSharedCatalog :many
SELECT s.id AS share_id, s.recipients, s.level, s.max_grant_seconds, s.mode, s.term_end, o.display_name AS owner_name,
       res.id AS resource_id, res.name, res.description, res.classification, res.mount, res.path, res.store_kind, res.binding_id,
       res.breakglass, res.breakglass_max_seconds, res.breakglass_drill
FROM shares s JOIN tenants o ON o.id = s.owner_tenant_id
JOIN share_resources sr ON sr.share_id = s.id JOIN resources res ON res.id = sr.resource_id
WHERE s.recipient_tenant_id = @tenant_id AND s.state = 'active' AND s.term_end > now() AND res.retired_at IS NULL
ORDER BY o.display_name, res.name;

-- name: ListShareRequestsPage :many
-- Up to @max of the requests made under the share (the caller has read the
-- share in its tenant), every one (@every_side: the owner's view) or only
-- those of people of @requester_tenant_id (the recipient's), newest first
-- in the strict order (submitted_at DESC, id DESC), after the keyset
-- (@before_at, @before_id) — from the newest when both are null — read in
-- that order from requests_share_page (migration 0041), the keyset
-- comparison its index condition.
SELECT r.id, r.state, r.requester, r.requester_tenant_id, r.duration_seconds, r.submitted_at, res.name AS resource_name, g.expires_at
FROM requests r JOIN resources res ON res.id = r.resource_id LEFT JOIN grants g ON g.request_id = r.id
WHERE r.share_id = @share_id
  AND (@every_side::boolean OR r.requester_tenant_id = @requester_tenant_id::uuid)
  AND (r.submitted_at, r.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
ORDER BY r.submitted_at DESC, r.id DESC
LIMIT @max;

-- name: ListShareGrantsToEnd :many
SELECT id FROM requests WHERE share_id = @share_id AND state = 'active';

-- name: CancelShareRequests :many
UPDATE requests SET state = 'cancelled', updated_at = @now
WHERE share_id = @share_id AND state = 'pending'
RETURNING id;

-- name: CountOpenSharedRequestsOf :one
SELECT count(*) FROM requests
WHERE share_id = @share_id AND resource_id = @resource_id AND requester_tenant_id = @tenant_id AND requester_subject = @subject
  AND state IN ('pending', 'approved', 'issuing', 'active');

-- name: InsertSharedRequest :one
INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
                      justification, ticket, state, policy, submitted_at, updated_at, share_id, requester_tenant_id)
VALUES (@tenant_id, @resource_id, @requester_subject, @requester_email, @requester, @level, @duration_seconds,
        @justification, '', @state, @policy, @submitted_at, @submitted_at, @share_id, @requester_tenant_id)
RETURNING id;

-- name: ShareOwnedElsewhere :one
SELECT EXISTS (SELECT 1 FROM shares WHERE id = @id AND owner_tenant_id <> @tenant_id AND recipient_tenant_id <> @tenant_id);

-- name: ListActiveGrantsHeldBy :many
SELECT id FROM requests WHERE coalesce(requester_tenant_id, tenant_id) = @tenant_id::uuid AND state = 'active';

-- name: ListMembersWithRole :many
SELECT email FROM members WHERE tenant_id = @tenant_id AND @role::text = ANY (roles) ORDER BY email;

-- name: GetSharePolicy :one
SELECT policy FROM share_policies WHERE tenant_id = @tenant_id;

-- name: UpsertSharePolicy :exec
INSERT INTO share_policies (tenant_id, policy, updated_by) VALUES (@tenant_id, @policy, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by, updated_at = now();

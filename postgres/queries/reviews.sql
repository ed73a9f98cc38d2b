-- name: InsertCampaign :one
INSERT INTO review_campaigns (tenant_id, name, due_at, created_by, created_at)
VALUES (@tenant_id, @name, @due_at, @created_by, @created_at) RETURNING id;

-- name: InsertReviewItem :exec
INSERT INTO review_items (campaign_id, kind, ref, label) VALUES (@campaign_id, @kind, @ref, @label);

-- name: ListCampaignsPage :many
-- Up to @max of the tenant's campaigns with their progress, newest first in
-- the strict order (created_at DESC, id DESC), after the keyset
-- (@before_at, @before_id) — from the newest when both are null — read from
-- review_campaigns_tenant (tenant_id, created_at DESC; a tenant's campaigns
-- are few, so those started at one instant are sorted by ID as they are
-- read).
SELECT c.*, (SELECT count(*) FROM review_items i WHERE i.campaign_id = c.id) AS items,
       (SELECT count(*) FROM review_items i WHERE i.campaign_id = c.id AND i.decision IS NOT NULL) AS decided
FROM review_campaigns c
WHERE c.tenant_id = @tenant_id
  AND (c.created_at, c.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                              coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
ORDER BY c.created_at DESC, c.id DESC
LIMIT @max;

-- name: GetCampaign :one
SELECT * FROM review_campaigns WHERE id = @id AND tenant_id = @tenant_id;

-- name: ListReviewItems :many
SELECT * FROM review_items WHERE campaign_id = @campaign_id ORDER BY kind, label;

-- name: LockReviewItem :one
SELECT i.* FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id
WHERE i.id = @id AND i.campaign_id = @campaign_id AND c.tenant_id = @tenant_id
FOR UPDATE OF i;

-- name: DecideReviewItem :exec
UPDATE review_items SET decision = @decision, note = @note, decided_by = @decided_by, decided_at = @decided_at WHERE id = @id;

-- name: CompleteCampaignIfDone :execrows
UPDATE review_campaigns c SET completed_at = @now
WHERE c.id = @id AND c.completed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM review_items i WHERE i.campaign_id = c.id AND i.decision IS NULL);

-- name: CampaignsToRemind :many
SELECT c.id, c.tenant_id, c.name, c.due_at,
       (SELECT count(*) FROM review_items i WHERE i.campaign_id = c.id AND i.decision IS NULL) AS open_items
FROM review_campaigns c
WHERE c.completed_at IS NULL AND c.due_at < @horizon AND (c.reminded_at IS NULL OR c.reminded_at < @remind_before)
FOR UPDATE OF c SKIP LOCKED;

-- name: MarkCampaignReminded :exec
UPDATE review_campaigns SET reminded_at = @at WHERE id = @id;

-- name: LongRunningShares :many
SELECT s.id, o.display_name AS owner_name, r.display_name AS recipient_name, s.term_end, s.purpose
FROM shares s JOIN tenants o ON o.id = s.owner_tenant_id JOIN tenants r ON r.id = s.recipient_tenant_id
WHERE (s.owner_tenant_id = @tenant_id OR s.recipient_tenant_id = @tenant_id) AND s.state = 'active'
  AND s.term_end - s.proposed_at > @longer_than::interval
ORDER BY s.proposed_at;

-- name: BreakGlassResources :many
-- Retired resources are out of the catalog: nobody can break glass on them.
SELECT id, name, mount, path, breakglass_max_seconds FROM resources WHERE tenant_id = @tenant_id AND breakglass AND retired_at IS NULL ORDER BY name;

-- name: DeleteSessionsWithRole :execrows
DELETE FROM sessions WHERE tenant_id = @tenant_id AND @role::text = ANY (roles);

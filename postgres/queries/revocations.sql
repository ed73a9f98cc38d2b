-- name: Blocked :one
-- Whether an unlifted revocation covers this access: the resource's tenant
-- or the requester's (frozen), the requester's IdP, the person (everywhere,
-- or in one of those two tenants), the resource, the share or the grant
-- itself.
SELECT EXISTS (SELECT 1 FROM revocations b WHERE b.lifted_at IS NULL AND (
    (b.scope_kind = 'tenant' AND b.tenant_id IN (@tenant_id::uuid, @requester_tenant_id::uuid)) OR
    (b.scope_kind = 'idp' AND b.tenant_id = @requester_tenant_id::uuid) OR
    (b.scope_kind = 'user' AND b.scope_value = lower(@email::text)
        AND (b.tenant_id IS NULL OR b.tenant_id IN (@tenant_id::uuid, @requester_tenant_id::uuid))) OR
    (b.scope_kind = 'resource' AND b.scope_value = @resource_id::text) OR
    (b.scope_kind = 'share' AND b.scope_value = @share_id::text) OR
    (b.scope_kind = 'grant' AND b.scope_value = @request_id::text)))::boolean;

-- name: InsertRevocation :one
INSERT INTO revocations (scope_kind, scope_value, tenant_id, reason, actor, rotate, sessions_ended, created_at)
VALUES (@scope_kind, @scope_value, @tenant_id, @reason, @actor, @rotate, @sessions_ended, @created_at)
RETURNING id;

-- name: GetRevocation :one
SELECT * FROM revocations WHERE id = @id;

-- name: ListRevocationsPage :many
-- Up to @max of the tenant's revocations, newest first in the strict order
-- (created_at DESC, id DESC), after the keyset (@before_at, @before_id) —
-- from the newest when both are null — read from revocations_tenant
-- (tenant_id, created_at DESC; a tenant's revocations are few, so those
-- sharing an instant are sorted by ID as they are read).
SELECT * FROM revocations
WHERE tenant_id = @tenant_id
  AND (created_at, id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                          coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max;

-- name: ListEveryRevocationPage :many
-- ListRevocationsPage over every tenant's revocations (for a platform
-- operator), read from revocations_page (created_at DESC, id DESC:
-- migration 0039), the keyset comparison its index condition.
SELECT * FROM revocations
WHERE (created_at, id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                          coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max;

-- name: ListRunningRevocations :many
SELECT id FROM revocations WHERE state = 'running';

-- name: ListScopeGrants :many
SELECT r.id FROM requests r
WHERE r.state = 'active' AND (
    (@kind::text = 'grant' AND r.id::text = @value::text) OR
    (@kind::text = 'user' AND lower(r.requester_email) = @value::text
        AND (@tenant_id::uuid = '00000000-0000-0000-0000-000000000000'::uuid
             OR r.tenant_id = @tenant_id::uuid OR r.requester_tenant_id = @tenant_id::uuid)) OR
    (@kind::text = 'resource' AND r.resource_id::text = @value::text) OR
    (@kind::text = 'share' AND r.share_id::text = @value::text) OR
    (@kind::text = 'tenant' AND (r.tenant_id = @tenant_id::uuid OR r.requester_tenant_id = @tenant_id::uuid)) OR
    (@kind::text = 'idp' AND coalesce(r.requester_tenant_id, r.tenant_id) = @tenant_id::uuid));

-- name: InsertRevocationItems :exec
INSERT INTO revocation_items (revocation_id, request_id, updated_at)
SELECT @revocation_id::uuid, unnest(@request_ids::uuid[]), @now::timestamptz
ON CONFLICT DO NOTHING;

-- name: SettleEndedRevocationItems :exec
-- Items whose grant another path ended meanwhile are verified: every end
-- path verifies the credential dead before recording the grant ended.
UPDATE revocation_items i SET state = 'verified', last_error = '', updated_at = @now
FROM requests r
WHERE i.revocation_id = @revocation_id AND i.state <> 'verified' AND r.id = i.request_id AND r.state <> 'active';

-- name: UnfinishedRevocationItems :many
SELECT request_id FROM revocation_items WHERE revocation_id = @revocation_id AND state <> 'verified' ORDER BY request_id;

-- name: SetRevocationItemsVerified :exec
-- The items verified dead, those among them whose grant this revocation
-- ended marked so.
UPDATE revocation_items SET state = 'verified', attempts = attempts + 1, last_error = '', updated_at = @now,
       ended = ended OR request_id = ANY(@ended::uuid[])
WHERE revocation_id = @revocation_id AND request_id = ANY(@request_ids::uuid[]);

-- name: EndedByRevocation :many
-- The grants the revocation ended, by holder (and the organization that
-- tells them).
SELECT r.id, r.tenant_id, r.requester_email, res.name AS resource_name
FROM revocation_items i JOIN requests r ON r.id = i.request_id JOIN resources res ON res.id = r.resource_id
WHERE i.revocation_id = @revocation_id AND i.ended
ORDER BY r.tenant_id, r.requester_email, res.name, r.id;

-- name: SetRevocationItem :exec
-- An item verified dead stays verified: a second run of the revocation (the
-- CLI beside a worker) failing on it afterwards does not undo that.
UPDATE revocation_items SET state = @state, attempts = attempts + 1, last_error = @last_error, updated_at = @now
WHERE revocation_id = @revocation_id AND request_id = @request_id AND state <> 'verified';

-- name: RevocationItems :many
SELECT i.request_id, i.state, i.attempts, i.last_error, r.requester_email, res.name AS resource_name
FROM revocation_items i JOIN requests r ON r.id = i.request_id JOIN resources res ON res.id = r.resource_id
WHERE i.revocation_id = @revocation_id ORDER BY res.name, r.requester_email;

-- name: RevocationCounts :one
SELECT count(*) AS total,
       count(*) FILTER (WHERE state = 'verified') AS verified,
       count(*) FILTER (WHERE state = 'failed') AS failed
FROM revocation_items WHERE revocation_id = @revocation_id;

-- name: CompleteRevocation :execrows
UPDATE revocations SET state = 'completed', completed_at = @now WHERE id = @id AND state = 'running';

-- name: SetRevocationRotated :exec
UPDATE revocations SET rotated = @rotated WHERE id = @id;

-- name: LiftRevocation :execrows
UPDATE revocations SET lifted_at = @now, lifted_by = @actor WHERE id = @id AND lifted_at IS NULL;

-- name: DeleteUserSessions :execrows
-- The person's sessions in every tenant, or in @tenant_id alone.
DELETE FROM sessions WHERE lower(email) = @email::text AND (@every_tenant::boolean OR tenant_id = @tenant_id::uuid);

-- name: CountUserSessions :one
-- The person's sessions active in the window (DeleteUserSessions also
-- ends the rows that ended but are not yet swept).
SELECT count(*) FROM sessions WHERE lower(email) = @email::text AND (@every_tenant::boolean OR tenant_id = @tenant_id::uuid)
  AND expires_at >= @now AND last_seen_at >= @idle_since;

-- name: UserBlocked :one
-- Whether an unlifted user revocation covers the person in the tenant.
SELECT EXISTS (SELECT 1 FROM revocations b WHERE b.lifted_at IS NULL AND b.scope_kind = 'user'
    AND b.scope_value = lower(@email::text) AND (b.tenant_id IS NULL OR b.tenant_id = @tenant_id::uuid))::boolean;

-- name: CountTenantSessions :one
-- The tenant's sessions active in the window.
SELECT count(*) FROM sessions WHERE tenant_id = @tenant_id AND expires_at >= @now AND last_seen_at >= @idle_since;

-- name: CountActiveShares :one
SELECT count(*) FROM shares WHERE (owner_tenant_id = @tenant_id OR recipient_tenant_id = @tenant_id) AND state IN ('proposed', 'awaiting-acceptance', 'active');

-- name: SharePartners :many
-- The organizations on the other side of the shares a revocation's scope
-- blocks, each with how many of them: every share a frozen tenant is party
-- to, the shares a tenant whose IdP is killed receives (its people can no
-- longer use them; shares it offers stay usable by their recipients), the
-- shares of a revoked resource. Only shares the partner sees count: active,
-- awaiting acceptance, or proposed by the partner (a proposal is its
-- owner's alone until its approvers offer it).
SELECT p.id, p.display_name, count(*)::int AS shares
FROM shares s
JOIN tenants p ON p.id = CASE WHEN s.owner_tenant_id = @tenant_id::uuid THEN s.recipient_tenant_id ELSE s.owner_tenant_id END
WHERE ((@kind::text = 'tenant' AND (s.owner_tenant_id = @tenant_id::uuid OR s.recipient_tenant_id = @tenant_id::uuid)) OR
       (@kind::text = 'idp' AND s.recipient_tenant_id = @tenant_id::uuid) OR
       (@kind::text = 'resource' AND s.owner_tenant_id = @tenant_id::uuid
            AND EXISTS (SELECT 1 FROM share_resources sr WHERE sr.share_id = s.id AND sr.resource_id::text = @value::text)))
  AND (s.state IN ('awaiting-acceptance', 'active') OR (s.state = 'proposed' AND s.recipient_tenant_id = @tenant_id::uuid))
GROUP BY p.id, p.display_name
ORDER BY p.display_name;

-- name: AffectedTenants :many
SELECT DISTINCT t.id, t.display_name FROM requests r
JOIN tenants t ON t.id = r.tenant_id OR t.id = r.requester_tenant_id
WHERE r.id = ANY (@request_ids::uuid[]);

-- name: GetRequestScope :one
SELECT id, tenant_id, requester_tenant_id FROM requests WHERE id = @id;

-- name: GetResourceTenant :one
SELECT tenant_id FROM resources WHERE id = @id;

-- name: GetShareTenants :one
SELECT owner_tenant_id, recipient_tenant_id, state FROM shares WHERE id = @id;

-- name: MemberTenants :many
SELECT tenant_id FROM members WHERE lower(email) = @email::text;

-- name: GetResourceForRotation :one
SELECT res.mount, res.path, res.store_kind, res.binding_id, res.tenant_id, t.slug FROM resources res JOIN tenants t ON t.id = res.tenant_id WHERE res.id = @id;

-- name: RevocationNotices :many
-- Every notice of revocation ref (one per organization told and channel),
-- with the organization's slug, in the order they were sent. Never capped:
-- the revocation's report must list them all, and there are at most two
-- per organization (the planner probes notices_ref_page per tenant).
SELECT n.tenant_id, t.slug, n.channel, n.recipients, n.state, n.reason, n.attempts, n.enqueued_at
FROM notices n JOIN tenants t ON t.id = n.tenant_id
WHERE n.ref = @ref
ORDER BY n.enqueued_at, t.slug, n.channel DESC, n.id;

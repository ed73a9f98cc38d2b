-- name: LockLiveResource :one
-- One of the tenant's resources in the catalog (not retired), locked FOR
-- KEY SHARE. Every path creating access to a resource (a request, a
-- break-glass, a share proposal, an issue) reads it through this, and
-- retiring locks the row FOR UPDATE (LockResource) before counting what
-- is in use: a creation committed first is counted (and the retire
-- refused), and one waiting on the retire re-reads the row, finds it
-- retired and gets no row. FOR KEY SHARE is the lock a request's foreign
-- key takes anyway: it conflicts with FOR UPDATE only, so policy and
-- break-glass edits (plain updates) never wait for requests.
SELECT * FROM resources WHERE id = @id AND tenant_id = @tenant_id AND retired_at IS NULL FOR KEY SHARE;

-- name: LockResource :one
-- FOR UPDATE, not the weaker lock a plain update takes: it must conflict
-- with LockLiveResource's FOR KEY SHARE (see there).
SELECT * FROM resources WHERE id = @id AND tenant_id = @tenant_id FOR UPDATE;

-- name: ListRetiredResources :many
SELECT * FROM resources WHERE tenant_id = @tenant_id AND retired_at IS NOT NULL ORDER BY retired_at DESC, name;

-- name: CountResourceInUse :one
-- What keeps the resource in use (approvals.InUse): its requests in
-- request_states (under a share too: they live in the owner's tenant),
-- its active grants, the shares of it in share_states, whether it has a
-- rotation schedule, and its replicas not purged.
SELECT
    (SELECT count(*) FROM requests r WHERE r.tenant_id = @tenant_id AND r.resource_id = @id
        AND r.state = ANY (@request_states::text[]))::int AS requests,
    (SELECT count(*) FROM requests r WHERE r.tenant_id = @tenant_id AND r.resource_id = @id AND r.state = 'active')::int AS grants,
    (SELECT count(*) FROM share_resources sr JOIN shares s ON s.id = sr.share_id
     WHERE sr.resource_id = @id AND s.owner_tenant_id = @tenant_id AND s.state = ANY (@share_states::text[]))::int AS shares,
    EXISTS (SELECT 1 FROM rotation_schedules rs WHERE rs.resource_id = @id AND rs.tenant_id = @tenant_id) AS rotation,
    (SELECT count(*) FROM sync_targets st WHERE st.source_id = @id AND st.tenant_id = @tenant_id AND st.state <> 'purged')::int AS replicas;

-- name: UpdateResourceDetails :exec
UPDATE resources SET name = @name, description = @description, owner_team = @owner_team, classification = @classification, policy = @policy
WHERE id = @id AND tenant_id = @tenant_id;

-- name: SetResourceRetired :exec
-- Retires the resource (at set) or restores it (at NULL).
UPDATE resources SET retired_at = sqlc.narg(at)::timestamptz, retired_by = @by, retired_reason = @reason
WHERE id = @id AND tenant_id = @tenant_id;

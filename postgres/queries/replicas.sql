-- name: UpsertRotationSchedule :exec
INSERT INTO rotation_schedules (resource_id, tenant_id, every_seconds, value_length, alphabet, verify_url, next_at, updated_by)
VALUES (@resource_id, @tenant_id, @every_seconds, @value_length, @alphabet, @verify_url, @next_at, @actor)
ON CONFLICT (resource_id) DO UPDATE SET every_seconds = EXCLUDED.every_seconds, value_length = EXCLUDED.value_length,
    alphabet = EXCLUDED.alphabet, verify_url = EXCLUDED.verify_url, next_at = EXCLUDED.next_at,
    updated_by = EXCLUDED.updated_by, updated_at = now();

-- name: GetRotationSchedule :one
SELECT * FROM rotation_schedules WHERE resource_id = @resource_id AND tenant_id = @tenant_id;

-- name: DeleteRotationSchedule :one
-- Stops the tenant's resource's rotation and returns the schedule stopped
-- (no row: there was none).
DELETE FROM rotation_schedules WHERE resource_id = @resource_id AND tenant_id = @tenant_id RETURNING *;

-- name: ClaimDueRotations :many
UPDATE rotation_schedules SET next_at = sqlc.arg(now)::timestamptz + make_interval(0, 0, 0, 0, 0, 0, every_seconds)
WHERE resource_id IN (SELECT s.resource_id FROM rotation_schedules s WHERE s.next_at <= sqlc.arg(now)::timestamptz
                      ORDER BY s.next_at LIMIT 100 FOR UPDATE SKIP LOCKED)
RETURNING resource_id, tenant_id;

-- name: RecordRotationRun :exec
UPDATE rotation_schedules SET last_at = @at, last_version = @version, last_error = @error WHERE resource_id = @resource_id;

-- name: InsertSyncTarget :one
INSERT INTO sync_targets (tenant_id, source_id, binding_id, target_name, created_by)
VALUES (@tenant_id, @source_id, @binding_id, @target_name, @actor)
RETURNING id;

-- name: ListSyncTargets :many
SELECT st.*, res.name AS source_name, res.mount AS source_mount, res.path AS source_path, b.name AS binding_name
FROM sync_targets st JOIN resources res ON res.id = st.source_id JOIN store_bindings b ON b.id = st.binding_id
WHERE st.tenant_id = @tenant_id ORDER BY res.name, b.name, st.target_name;

-- name: GetSyncTarget :one
SELECT st.*, res.name AS source_name, res.mount AS source_mount, res.path AS source_path, b.name AS binding_name
FROM sync_targets st JOIN resources res ON res.id = st.source_id JOIN store_bindings b ON b.id = st.binding_id
WHERE st.id = @id AND st.tenant_id = @tenant_id;

-- name: ListSyncTargetIDs :many
SELECT id, tenant_id FROM sync_targets WHERE state <> 'purged' ORDER BY checked_at NULLS FIRST LIMIT 1000;

-- name: RecordSync :exec
UPDATE sync_targets SET state = @state, source_version = @source_version, target_version = @target_version,
    detail = @detail, checked_at = @checked_at
WHERE id = @id;

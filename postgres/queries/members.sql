-- name: UpsertMember :exec
INSERT INTO members (tenant_id, subject, email, display_name, groups, roles, first_seen_at, last_login_at)
VALUES (@tenant_id, @subject, @email, @display_name, @groups, @roles, @at, @at)
ON CONFLICT (tenant_id, subject) DO UPDATE
SET email = excluded.email, display_name = excluded.display_name, groups = excluded.groups,
    roles = excluded.roles, last_login_at = excluded.last_login_at;

-- name: ListMembers :many
-- Everyone who has signed in to the tenant, with their sessions active in
-- the window (ended ones not yet swept are not counted).
SELECT m.subject, m.email, m.display_name, m.groups, m.roles, m.first_seen_at, m.last_login_at,
       (SELECT count(*) FROM sessions s WHERE s.tenant_id = m.tenant_id AND s.subject = m.subject
          AND s.expires_at >= @now AND s.last_seen_at >= @idle_since)::bigint AS sessions
FROM members m
WHERE m.tenant_id = @tenant_id
ORDER BY m.email;

-- name: LockTenantByID :one
-- NO KEY: rows referencing the tenant (audit events, requests, ...) can still be
-- inserted by others meanwhile; a FOR UPDATE would block their foreign-key
-- checks and deadlock with a transaction holding the tenant's audit head.
SELECT slug FROM tenants WHERE id = @id FOR NO KEY UPDATE;

-- name: DeleteRoleMapping :execrows
DELETE FROM role_mappings WHERE tenant_id = @tenant_id AND idp_group = @idp_group AND role = @role;

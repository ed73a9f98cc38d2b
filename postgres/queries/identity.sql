-- name: GetSignInConfig :one
SELECT t.id, t.slug, t.display_name, t.status,
       i.issuer_url, i.client_id, i.client_secret_ref, i.scopes, i.groups_claim,
       i.require_email_verified, i.step_up_acr, i.status AS idp_status
FROM tenants t JOIN identity_providers i ON i.tenant_id = t.id
WHERE t.slug = @slug;

-- name: ListRoleMappings :many
SELECT idp_group, role FROM role_mappings WHERE tenant_id = @tenant_id ORDER BY idp_group, role;

-- name: InsertLoginAttempt :exec
INSERT INTO login_attempts (id_hash, tenant_id, state, nonce, pkce_verifier, return_to, step_up, created_at, expires_at)
VALUES (@id_hash, @tenant_id, @state, @nonce, @pkce_verifier, @return_to, @step_up, @created_at, @expires_at);

-- name: ConsumeLoginAttempt :one
UPDATE login_attempts SET consumed_at = @now::timestamptz
WHERE id_hash = @id_hash AND consumed_at IS NULL AND expires_at > @now
RETURNING *;

-- name: DeleteExpiredLoginAttempts :exec
DELETE FROM login_attempts WHERE expires_at < @before;

-- name: InsertSession :exec
INSERT INTO sessions (id_hash, tenant_id, subject, email, display_name, groups, roles, issuer,
                      auth_time, created_at, last_seen_at, expires_at, ip, user_agent)
VALUES (@id_hash, @tenant_id, @subject, @email, @display_name, @groups, @roles, @issuer,
        @auth_time, @created_at, @last_seen_at, @expires_at, @ip, @user_agent);

-- name: GetSession :one
SELECT s.*, t.slug AS tenant_slug, t.display_name AS tenant_name,
       (t.status = 'active' AND i.status = 'enabled')::boolean AS allowed
FROM sessions s
JOIN tenants t ON t.id = s.tenant_id
JOIN identity_providers i ON i.tenant_id = s.tenant_id
WHERE s.id_hash = @id_hash;

-- name: TouchSession :exec
UPDATE sessions SET last_seen_at = @now WHERE id_hash = @id_hash;

-- name: DeleteSession :execrows
DELETE FROM sessions WHERE id_hash = @id_hash;

-- name: DeleteTenantSessions :execrows
DELETE FROM sessions WHERE tenant_id = @tenant_id;

-- name: InsertAuditEvent :exec
INSERT INTO audit_events (tenant_id, occurred_at, actor, action, target, outcome, ip, user_agent, request_id, detail)
VALUES (@tenant_id, @occurred_at, @actor, @action, @target, @outcome, @ip, @user_agent, @request_id, @detail);

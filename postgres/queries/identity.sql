-- name: GetSignInConfig :one
-- The IdP of an active (or suspended) tenant, or, while it is onboarding,
-- the IdP recorded by the wizard (usable for test sign-ins only).
SELECT t.id, t.slug, t.display_name, t.status,
       coalesce(i.issuer_url, o.issuer_url)::text AS issuer_url,
       coalesce(i.client_id, o.client_id)::text AS client_id,
       coalesce(i.client_secret_ref, o.client_secret_ref)::text AS client_secret_ref,
       coalesce(i.scopes, o.scopes)::text[] AS scopes,
       coalesce(i.groups_claim, o.groups_claim)::text AS groups_claim,
       coalesce(i.require_email_verified, o.require_email_verified)::boolean AS require_email_verified,
       coalesce(i.step_up_acr, o.step_up_acr)::text AS step_up_acr,
       coalesce(i.status, 'enabled')::text AS idp_status
FROM tenants t
LEFT JOIN identity_providers i ON i.tenant_id = t.id
LEFT JOIN onboardings o ON o.tenant_id = t.id
WHERE t.slug = @slug AND (i.tenant_id IS NOT NULL OR o.tenant_id IS NOT NULL);

-- name: ListRoleMappings :many
SELECT idp_group, role FROM role_mappings WHERE tenant_id = @tenant_id ORDER BY idp_group, role;

-- name: InsertLoginAttempt :exec
INSERT INTO login_attempts (id_hash, tenant_id, state, nonce, pkce_verifier, return_to, step_up, test, created_at, expires_at)
VALUES (@id_hash, @tenant_id, @state, @nonce, @pkce_verifier, @return_to, @step_up, @test, @created_at, @expires_at);

-- name: ConsumeLoginAttempt :one
UPDATE login_attempts SET consumed_at = @now::timestamptz
WHERE id_hash = @id_hash AND consumed_at IS NULL AND expires_at > @now
RETURNING *;

-- name: DeleteExpiredLoginAttempts :exec
DELETE FROM login_attempts WHERE expires_at < @before;

-- name: InsertSession :exec
INSERT INTO sessions (id_hash, tenant_id, subject, email, display_name, groups, roles, issuer,
                      auth_time, step_up, created_at, last_seen_at, expires_at, ip, last_ip, user_agent)
VALUES (@id_hash, @tenant_id, @subject, @email, @display_name, @groups, @roles, @issuer,
        @auth_time, @step_up, @created_at, @last_seen_at, @expires_at, @ip, @ip, @user_agent);

-- name: GetSession :one
SELECT s.*, t.slug AS tenant_slug, t.display_name AS tenant_name,
       (t.status = 'active' AND i.status = 'enabled')::boolean AS allowed
FROM sessions s
JOIN tenants t ON t.id = s.tenant_id
JOIN identity_providers i ON i.tenant_id = s.tenant_id
WHERE s.id_hash = @id_hash;

-- name: TouchSession :exec
-- Records activity on the session: when, and from which client address.
UPDATE sessions SET last_seen_at = @now, last_ip = @ip WHERE id_hash = @id_hash;

-- name: DeleteSession :execrows
DELETE FROM sessions WHERE id_hash = @id_hash;

-- name: ListOwnSessions :many
-- A person's sessions in one tenant that are still active at @now by the
-- rules identity.Sessions.Resume applies (not past the absolute timeout,
-- seen at or after @idle_since), newest first. Never the id_hash: a
-- session is named by its opaque ref.
SELECT ref, created_at, last_seen_at, expires_at, auth_time, step_up, ip, last_ip, user_agent
FROM sessions
WHERE tenant_id = @tenant_id AND subject = @subject AND expires_at >= @now AND last_seen_at >= @idle_since
ORDER BY created_at DESC, ref;

-- name: DeleteOwnSessions :many
-- Deletes the person's own active sessions in the tenant other than @keep
-- (the session asking): only the one named @ref, or every other one when
-- @ref is null. A ref of anyone else's, another tenant's or an ended
-- session matches nothing.
DELETE FROM sessions
WHERE tenant_id = @tenant_id AND subject = @subject AND ref <> @keep
  AND (sqlc.narg('ref')::uuid IS NULL OR ref = sqlc.narg('ref')::uuid)
  AND expires_at >= @now AND last_seen_at >= @idle_since
RETURNING ref, created_at, last_seen_at, expires_at, auth_time, step_up, ip, last_ip, user_agent;

-- name: DeleteTenantSessions :execrows
DELETE FROM sessions WHERE tenant_id = @tenant_id;

-- name: AppendAuditEvents :execrows
-- Appends consecutive events of one chain (given in seq order, all at
-- occurred_at) and moves the chain's head to the last, in one statement
-- (the head row is locked by LockAuditHead first). One row affected: the
-- head moved.
WITH ev AS (
    INSERT INTO audit_events (tenant_id, occurred_at, actor, action, target, outcome, ip, user_agent, request_id, detail,
                              chain, seq, prev_hash, hash)
    SELECT sqlc.narg('tenant_id')::uuid, @occurred_at, e.actor, e.action, e.target, e.outcome, e.ip, e.user_agent, e.request_id,
           e.detail::jsonb, @chain::text, e.seq, e.prev_hash, e.hash
    FROM (SELECT unnest(@actors::text[]) AS actor, unnest(@actions::text[]) AS action, unnest(@targets::text[]) AS target,
                 unnest(@outcomes::text[]) AS outcome, unnest(@ips::text[]) AS ip, unnest(@user_agents::text[]) AS user_agent,
                 unnest(@request_ids::text[]) AS request_id, unnest(@details::text[]) AS detail, unnest(@seqs::bigint[]) AS seq,
                 unnest(@prev_hashes::bytea[]) AS prev_hash, unnest(@hashes::bytea[]) AS hash) e -- arrays of one length, in lockstep
    RETURNING seq, hash)
UPDATE audit_heads h SET seq = last.seq, hash = last.hash
FROM (SELECT seq, hash FROM ev ORDER BY seq DESC LIMIT 1) last
WHERE h.chain = @chain::text;

-- name: DeleteEndedSessions :execrows
DELETE FROM sessions WHERE expires_at < @now OR last_seen_at < @idle_before;

-- name: LockAuditHead :one
INSERT INTO audit_heads (chain, seq, hash) VALUES (@chain, 0, ''::bytea)
ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain
RETURNING seq, hash;

-- name: ListAuditHeads :many
SELECT * FROM audit_heads ORDER BY chain;

-- name: ListChain :many
SELECT chain, seq, occurred_at, tenant_id, actor, action, target, outcome, ip, user_agent, request_id, detail, prev_hash, hash
FROM audit_events WHERE chain = @chain ORDER BY seq;

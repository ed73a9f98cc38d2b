-- name: SearchAudit :many
-- One page of a tenant's audit events (every tenant's for operators),
-- newest first, after the keyset cursor @before (0: from the newest).
SELECT id, tenant_id, occurred_at, actor, action, target, outcome, ip, user_agent, request_id, detail
FROM audit_events
WHERE (@every_tenant::boolean OR tenant_id = @tenant_id::uuid)
  AND (@before::bigint = 0 OR id < @before::bigint)
  AND (@actor::text = '' OR actor ILIKE '%' || @actor::text || '%')
  AND (@action::text = '' OR action = @action::text OR action LIKE @action::text || '.%')
  AND (@target::text = '' OR target = @target::text)
  AND (@outcome::text = '' OR outcome = @outcome::text)
  AND (@since::timestamptz = '0001-01-01' OR occurred_at >= @since::timestamptz)
  AND (@until::timestamptz = '0001-01-01' OR occurred_at < @until::timestamptz)
ORDER BY id DESC
LIMIT @max_rows::int;

-- name: InsertAuditVerification :exec
INSERT INTO audit_verifications (tenant_id, verified_at, verified_by, chains, events, problems)
VALUES (@tenant_id, @verified_at, @verified_by, @chains, @events, @problems);

-- name: LastAuditVerification :one
SELECT * FROM audit_verifications
WHERE (@every_tenant::boolean AND tenant_id IS NULL) OR tenant_id = @tenant_id::uuid
ORDER BY verified_at DESC LIMIT 1;

-- name: InsertAuditVerification :exec
INSERT INTO audit_verifications (tenant_id, verified_at, verified_by, chains, events, problems)
VALUES (@tenant_id, @verified_at, @verified_by, @chains, @events, @problems);

-- name: LastAuditVerification :one
SELECT * FROM audit_verifications
WHERE (@every_tenant::boolean AND tenant_id IS NULL) OR tenant_id = @tenant_id::uuid
ORDER BY verified_at DESC LIMIT 1;

-- name: InsertOnboarding :exec
INSERT INTO onboardings (tenant_id, updated_by) VALUES (@tenant_id, @actor);

-- name: GetOnboarding :one
SELECT t.id, t.slug, t.display_name, t.status,
       (SELECT array_agg(d.domain ORDER BY d.domain) FROM tenant_email_domains d WHERE d.tenant_id = t.id)::text[] AS email_domains,
       o.issuer_url, o.endpoints, o.scopes, o.groups_claim, o.require_email_verified, o.step_up_acr, o.client_id, o.client_secret_ref, o.client_verified_at,
       o.vault_mount, o.vault_ready_at, o.test_email, o.test_groups, o.test_roles, o.test_at
FROM tenants t JOIN onboardings o ON o.tenant_id = t.id
WHERE t.slug = @slug
FOR NO KEY UPDATE OF t;

-- name: SaveOnboardingIssuer :exec
UPDATE onboardings SET issuer_url = @issuer_url, endpoints = @endpoints, scopes = @scopes,
       groups_claim = @groups_claim, require_email_verified = @require_email_verified, step_up_acr = @step_up_acr,
       client_verified_at = NULL, test_at = NULL, updated_by = @actor, updated_at = now()
WHERE tenant_id = @tenant_id;

-- name: SaveOnboardingClient :exec
UPDATE onboardings SET client_id = @client_id, client_secret_ref = @client_secret_ref,
       client_verified_at = @verified_at, test_at = NULL, updated_by = @actor, updated_at = now()
WHERE tenant_id = @tenant_id;

-- name: SaveOnboardingVault :exec
UPDATE onboardings SET vault_mount = @vault_mount, vault_ready_at = @ready_at, updated_by = @actor, updated_at = now()
WHERE tenant_id = @tenant_id;

-- name: SaveOnboardingTest :exec
UPDATE onboardings SET test_email = @email, test_groups = @groups, test_roles = @roles, test_at = @at,
       updated_by = @actor, updated_at = now()
WHERE tenant_id = @tenant_id;

-- name: DeleteRoleMappings :exec
DELETE FROM role_mappings WHERE tenant_id = @tenant_id;

-- name: InsertTenant :one
INSERT INTO tenants (slug, display_name, status, created_by, updated_by)
VALUES (@slug, @display_name, @status, @actor, @actor)
RETURNING *;

-- name: InsertEmailDomain :exec
INSERT INTO tenant_email_domains (domain, tenant_id) VALUES (@domain, @tenant_id);

-- name: UpsertIdentityProvider :exec
INSERT INTO identity_providers (tenant_id, issuer_url, client_id, client_secret_ref, scopes,
                                groups_claim, require_email_verified, step_up_acr, updated_by)
VALUES (@tenant_id, @issuer_url, @client_id, @client_secret_ref, @scopes,
        @groups_claim, @require_email_verified, @step_up_acr, @actor)
ON CONFLICT (tenant_id) DO UPDATE
SET issuer_url = excluded.issuer_url, client_id = excluded.client_id,
    client_secret_ref = excluded.client_secret_ref, scopes = excluded.scopes,
    groups_claim = excluded.groups_claim, require_email_verified = excluded.require_email_verified,
    step_up_acr = excluded.step_up_acr, updated_by = excluded.updated_by, updated_at = now();

-- name: InsertRoleMapping :exec
INSERT INTO role_mappings (tenant_id, idp_group, role) VALUES (@tenant_id, @idp_group, @role)
ON CONFLICT DO NOTHING;

-- name: InsertStoreBinding :exec
INSERT INTO store_bindings (tenant_id, kind, location, created_by)
VALUES (@tenant_id, @kind, @location, @actor)
ON CONFLICT (kind, location) DO NOTHING;

-- name: ListTenantsWithDomains :many
SELECT t.slug, t.display_name, t.status,
       array_agg(d.domain ORDER BY d.domain)::text[] AS email_domains
FROM tenants t JOIN tenant_email_domains d ON d.tenant_id = t.id
WHERE t.status = @status
GROUP BY t.id ORDER BY t.display_name;

-- name: GetTenantByEmailDomain :one
SELECT t.slug, t.display_name, t.status,
       (SELECT array_agg(d2.domain ORDER BY d2.domain) FROM tenant_email_domains d2
        WHERE d2.tenant_id = t.id)::text[] AS email_domains
FROM tenants t JOIN tenant_email_domains d ON d.tenant_id = t.id
WHERE d.domain = @domain;

-- name: GetTenantIDBySlug :one
SELECT id FROM tenants WHERE slug = @slug;

-- name: ListTenantsOverview :many
-- Every tenant with its IdP and its sessions active in the window.
SELECT t.slug, t.display_name, t.status, i.status AS idp_status, i.issuer_url,
       (SELECT count(*) FROM sessions s WHERE s.tenant_id = t.id
          AND s.expires_at >= @now AND s.last_seen_at >= @idle_since)::bigint AS sessions,
       (SELECT array_agg(d.domain ORDER BY d.domain) FROM tenant_email_domains d WHERE d.tenant_id = t.id)::text[] AS email_domains
FROM tenants t LEFT JOIN identity_providers i ON i.tenant_id = t.id
ORDER BY t.display_name;

-- name: LockTenantState :one
SELECT t.id, t.status, coalesce(i.status, 'disabled')::text AS idp_status
FROM tenants t LEFT JOIN identity_providers i ON i.tenant_id = t.id
WHERE t.slug = @slug
FOR NO KEY UPDATE OF t; -- not FOR UPDATE: see LockTenantByID

-- name: UpdateTenantStatus :exec
UPDATE tenants SET status = @status, updated_by = @actor, updated_at = now() WHERE id = @id;

-- name: UpdateIdPStatus :exec
UPDATE identity_providers SET status = @status, updated_by = @actor, updated_at = now() WHERE tenant_id = @tenant_id;

-- name: InsertCloudBinding :exec
INSERT INTO store_bindings (id, tenant_id, kind, location, name, settings, credential_ref, created_by)
VALUES (@id, @tenant_id, @kind, @location, @name, @settings, @credential_ref, @actor);

-- name: ListCloudBindings :many
SELECT * FROM store_bindings WHERE tenant_id = @tenant_id AND kind <> 'vault-kv2' ORDER BY name, created_at;

-- name: GetCloudBinding :one
SELECT * FROM store_bindings WHERE id = @id AND tenant_id = @tenant_id AND kind <> 'vault-kv2';

-- name: RecordBindingCheck :exec
UPDATE store_bindings SET checked_at = @checked_at, check_error = @check_error WHERE id = @id AND tenant_id = @tenant_id;

-- name: GetWebhook :one
SELECT webhook_url FROM tenant_channels WHERE tenant_id = @tenant_id;

-- name: SetWebhook :exec
INSERT INTO tenant_channels (tenant_id, webhook_url, updated_by) VALUES (@tenant_id, @webhook_url, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET webhook_url = excluded.webhook_url, updated_by = excluded.updated_by, updated_at = now();

-- name: GetEmailChannel :one
SELECT email_enabled, smtp_addr, smtp_from, smtp_username, smtp_secret_ref FROM tenant_channels WHERE tenant_id = @tenant_id;

-- name: SetEmailChannel :exec
INSERT INTO tenant_channels (tenant_id, email_enabled, smtp_addr, smtp_from, smtp_username, smtp_secret_ref, updated_by)
VALUES (@tenant_id, @email_enabled, @smtp_addr, @smtp_from, @smtp_username, @smtp_secret_ref, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET email_enabled = excluded.email_enabled, smtp_addr = excluded.smtp_addr,
    smtp_from = excluded.smtp_from, smtp_username = excluded.smtp_username, smtp_secret_ref = excluded.smtp_secret_ref,
    updated_by = excluded.updated_by, updated_at = now();

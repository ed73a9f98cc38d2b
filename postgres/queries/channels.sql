-- name: GetWebhook :one
SELECT webhook_url FROM tenant_channels WHERE tenant_id = @tenant_id;

-- name: SetWebhook :exec
INSERT INTO tenant_channels (tenant_id, webhook_url, updated_by) VALUES (@tenant_id, @webhook_url, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET webhook_url = excluded.webhook_url, updated_by = excluded.updated_by, updated_at = now();

-- name: LockMonitorCursor :one
SELECT last_event_id FROM monitor_cursor WHERE id = 1 FOR UPDATE;

-- name: SetMonitorCursor :exec
UPDATE monitor_cursor SET last_event_id = @last_event_id WHERE id = 1;

-- name: EventsAfter :many
SELECT id, tenant_id, occurred_at, actor, action, target, outcome, ip, detail
FROM audit_events WHERE id > @after ORDER BY id LIMIT @max_rows::int;

-- name: GetMonitorSettings :one
SELECT settings FROM monitor_settings WHERE tenant_id = @tenant_id;

-- name: UpsertMonitorSettings :exec
INSERT INTO monitor_settings (tenant_id, settings, updated_by) VALUES (@tenant_id, @settings, @actor)
ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_by = excluded.updated_by, updated_at = now();

-- name: CountActorNetworks :one
SELECT count(*) FROM seen_networks WHERE tenant_id = @tenant_id AND actor = @actor;

-- name: RememberNetwork :execrows
INSERT INTO seen_networks (tenant_id, actor, network, first_seen) VALUES (@tenant_id, @actor, @network, @first_seen)
ON CONFLICT DO NOTHING;

-- name: ClassificationOfSecret :one
SELECT res.classification FROM resources res WHERE res.tenant_id = @tenant_id::uuid AND res.mount || '/' || res.path = @secret::text
UNION ALL
SELECT res.classification FROM requests r JOIN resources res ON res.id = r.resource_id
WHERE r.id = sqlc.narg(request_id)::uuid AND (r.tenant_id = @tenant_id::uuid OR r.requester_tenant_id = @tenant_id::uuid)
LIMIT 1;

-- name: CountEarlierReveals :one
SELECT count(*) FROM audit_events
WHERE tenant_id = @tenant_id AND actor = @actor AND action = 'grant.revealed' AND detail->>'secret' = @secret::text AND id < @before;

-- name: CountRecent :one
SELECT count(*) FROM audit_events
WHERE tenant_id = @tenant_id AND (@actor::text = '' OR actor = @actor::text)
  AND (action = ANY (@actions::text[]) OR (@denied::boolean AND outcome IN ('denied', 'failure')))
  AND occurred_at > @since AND id <= @upto;

-- name: InsertAlert :one
INSERT INTO alerts (tenant_id, rule, score, summary, event_id, actor, occurred_at, created_at)
VALUES (@tenant_id, @rule, @score, @summary, @event_id, @actor, @occurred_at, @created_at)
RETURNING id;

-- name: ListAlertsPage :many
-- Up to @max of the tenant's alerts, open (unacknowledged) first, then
-- newest first: the strict order ((acked_at IS NULL) DESC, id DESC), after
-- the keyset (@before_open, @before_id) — from the first when both are
-- null. The keyset comparison runs in the order's direction, so paging
-- neither skips nor repeats an alert, and it is the index condition on
-- alerts_page (tenant_id, (acked_at IS NULL) DESC, id DESC), which is read
-- in order from wherever the page starts (migration 0037).
SELECT * FROM alerts
WHERE tenant_id = @tenant_id
  AND ((acked_at IS NULL), id) < (coalesce(sqlc.narg('before_open')::boolean, true),
                                  coalesce(sqlc.narg('before_id')::bigint, 9223372036854775807))
ORDER BY (acked_at IS NULL) DESC, id DESC
LIMIT @max;

-- name: AckAlert :execrows
UPDATE alerts SET acked_at = @now, acked_by = @actor WHERE id = @id AND tenant_id = @tenant_id AND acked_at IS NULL;

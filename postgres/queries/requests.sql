-- name: InsertResource :one
INSERT INTO resources (tenant_id, name, description, owner_team, classification, store_kind, mount, path, policy, created_by,
                       breakglass, breakglass_max_seconds, breakglass_rotate, breakglass_drill, binding_id, policy_from_class)
VALUES (@tenant_id, @name, @description, @owner_team, @classification, @store_kind, @mount, @path, @policy, @actor,
        @breakglass, @breakglass_max_seconds, @breakglass_rotate, @breakglass_drill, sqlc.narg(binding_id)::uuid, @policy_from_class)
RETURNING id;

-- name: GetResource :one
-- One of the tenant's resources, retired or not (requests and creating
-- paths use LockLiveResource).
SELECT * FROM resources WHERE id = @id AND tenant_id = @tenant_id;

-- name: InsertRequest :one
INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
                      justification, ticket, state, policy, submitted_at, updated_at)
VALUES (@tenant_id, @resource_id, @requester_subject, @requester_email, @requester, @level, @duration_seconds,
        @justification, @ticket, 'pending', @policy, @submitted_at, @submitted_at)
RETURNING id;

-- name: LockRequest :one
-- The tenant is the resource owner's, or the requester's for a request under a share.
SELECT * FROM requests WHERE id = @id AND (tenant_id = @tenant_id OR requester_tenant_id = @tenant_id) FOR UPDATE;

-- name: ListVotes :many
SELECT * FROM votes WHERE request_id = @request_id ORDER BY decided_at, step;

-- name: InsertVote :exec
INSERT INTO votes (request_id, step, approver_subject, approver, approve, comment, decided_at)
VALUES (@request_id, @step, @approver_subject, @approver, @approve, @comment, @decided_at);

-- name: UpdateRequestDecision :exec
UPDATE requests SET state = @state, duration_seconds = @duration_seconds, current_step = @current_step, updated_at = @updated_at WHERE id = @id;

-- name: LockGrantTargets :many
-- What the grant steps need of requests (a revocation's batch; one: LockGrantTarget),
-- locked in ID order.
SELECT r.id, r.tenant_id, t.slug AS tenant_slug, r.state, r.level, r.duration_seconds, r.requester_subject,
       r.requester_email, r.kind, r.drill, r.resource_id, res.name AS resource_name, res.mount, res.path, res.breakglass_rotate, res.store_kind, res.binding_id,
       rv.rotated_version, r.requester_tenant_id, r.share_id, g.accessor, g.retired_accessors, g.expires_at
FROM requests r JOIN tenants t ON t.id = r.tenant_id JOIN resources res ON res.id = r.resource_id
LEFT JOIN breakglass_reviews rv ON rv.request_id = r.id LEFT JOIN grants g ON g.request_id = r.id
WHERE r.id = ANY(@ids::uuid[])
ORDER BY r.id
FOR UPDATE OF r;

-- name: LockGrantTarget :one
-- LockGrantTargets for one request. PostgreSQL caches this statement's plan,
-- where it plans = ANY(...) anew on every call (~0.3 ms for five tables).
-- Same columns: lockGrantTarget converts this row to LockGrantTargets' type,
-- so the two cannot drift apart.
SELECT r.id, r.tenant_id, t.slug AS tenant_slug, r.state, r.level, r.duration_seconds, r.requester_subject,
       r.requester_email, r.kind, r.drill, r.resource_id, res.name AS resource_name, res.mount, res.path, res.breakglass_rotate, res.store_kind, res.binding_id,
       rv.rotated_version, r.requester_tenant_id, r.share_id, g.accessor, g.retired_accessors, g.expires_at
FROM requests r JOIN tenants t ON t.id = r.tenant_id JOIN resources res ON res.id = r.resource_id
LEFT JOIN breakglass_reviews rv ON rv.request_id = r.id LEFT JOIN grants g ON g.request_id = r.id
WHERE r.id = @id
FOR UPDATE OF r;

-- name: EndGrants :exec
UPDATE grants SET ended_at = @ended_at WHERE request_id = ANY(@request_ids::uuid[]);

-- name: SetRequestsState :exec
UPDATE requests SET state = @state, updated_at = @updated_at WHERE id = ANY(@ids::uuid[]);

-- name: SetRequestState :exec
UPDATE requests SET state = @state, failure_reason = @failure_reason, updated_at = @updated_at WHERE id = @id;

-- name: InsertGrant :exec
INSERT INTO grants (request_id, tenant_id, issued_at, expires_at) VALUES (@request_id, @tenant_id, @issued_at, @expires_at)
ON CONFLICT (request_id) DO UPDATE SET issued_at = excluded.issued_at, expires_at = excluded.expires_at;

-- name: HandOverAccessor :one
-- Records accessor as the grant's current token. The token it replaces (if
-- any) joins the retired ones; all the retired are returned, to revoke.
UPDATE grants SET accessor = @accessor,
       retired_accessors = CASE WHEN accessor = '' THEN retired_accessors ELSE array_append(retired_accessors, accessor) END
WHERE request_id = @request_id
RETURNING retired_accessors;

-- name: ForgetRetiredAccessors :one
-- Drops retired tokens verified dead from the grant's record and returns
-- how many it dropped (the row locked first, so the count is exact).
UPDATE grants g SET retired_accessors = array(
    SELECT a FROM unnest(o.retired_accessors) WITH ORDINALITY AS r(a, i) WHERE a <> ALL(@dead::text[]) ORDER BY i)
FROM (SELECT l.request_id, l.retired_accessors FROM grants l WHERE l.request_id = @request_id::uuid FOR UPDATE) o
WHERE g.request_id = o.request_id
RETURNING (cardinality(o.retired_accessors) - cardinality(g.retired_accessors))::int AS dropped;

-- name: EndGrant :exec
UPDATE grants SET ended_at = @ended_at WHERE request_id = @request_id;

-- name: LockActiveGrantOf :one
SELECT g.accessor, g.expires_at, r.tenant_id, r.requester_tenant_id, r.requester_email, r.resource_id, r.share_id
FROM grants g JOIN requests r ON r.id = g.request_id
WHERE g.request_id = @request_id AND coalesce(r.requester_tenant_id, r.tenant_id) = @tenant_id::uuid
  AND r.requester_subject = @holder AND r.state = 'active'
FOR UPDATE OF g;

-- name: ListResources :many
-- The tenant's catalog: its resources not retired.
SELECT * FROM resources WHERE tenant_id = @tenant_id AND retired_at IS NULL ORDER BY name;

-- name: ListRequestsOfPage :many
-- Up to @max of the requests the person @subject of the tenant made (in
-- its catalog, or in another's under a share), newest first in the strict
-- order (submitted_at DESC, id DESC), after the keyset (@before_at,
-- @before_id) — from the newest when both are null — read in that order
-- from requests_mine (migration 0040), the keyset comparison its index
-- condition.
SELECT r.id, r.state, r.level, r.duration_seconds, r.submitted_at, r.failure_reason, r.kind, r.drill,
       res.name AS resource_name, res.store_kind, g.expires_at
FROM requests r JOIN resources res ON res.id = r.resource_id LEFT JOIN grants g ON g.request_id = r.id
WHERE coalesce(r.requester_tenant_id, r.tenant_id) = @tenant_id::uuid AND r.requester_subject = @subject
  AND (r.submitted_at, r.id) < (coalesce(sqlc.narg('before_at')::timestamptz, 'infinity'::timestamptz),
                                coalesce(sqlc.narg('before_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
ORDER BY r.submitted_at DESC, r.id DESC
LIMIT @max;

-- name: ListActiveGrantsOf :many
-- Every active grant of the person @subject of the tenant (in its
-- catalog, or in another's under a share), newest first: the columns of
-- ListRequestsOfPage, so a row converts to its type. Not capped: a person
-- holds few at once, and My grants must list every one.
SELECT r.id, r.state, r.level, r.duration_seconds, r.submitted_at, r.failure_reason, r.kind, r.drill,
       res.name AS resource_name, res.store_kind, g.expires_at
FROM requests r JOIN resources res ON res.id = r.resource_id LEFT JOIN grants g ON g.request_id = r.id
WHERE coalesce(r.requester_tenant_id, r.tenant_id) = @tenant_id::uuid AND r.requester_subject = @subject AND r.state = 'active'
ORDER BY r.submitted_at DESC, r.id DESC;

-- name: ListMembersOf :many
SELECT subject, email, display_name, groups, roles FROM members WHERE tenant_id = @tenant_id ORDER BY email;

-- name: UpdateResourcePolicy :execrows
UPDATE resources SET policy = @policy, policy_from_class = false WHERE id = @id AND tenant_id = @tenant_id;

-- name: FollowClassPolicy :execrows
-- Gives the resource its classification's policy (locked FOR SHARE, so a
-- change to it waits for this or is seen by it) and marks it a follower.
UPDATE resources res SET policy = cp.policy, policy_from_class = true
FROM classification_policies cp
WHERE res.id = @id AND res.tenant_id = @tenant_id AND cp.tenant_id = res.tenant_id AND cp.classification = res.classification;

-- name: LockClassPolicy :one
SELECT policy FROM classification_policies WHERE tenant_id = @tenant_id AND classification = @classification FOR SHARE;

-- name: ListClassPolicies :many
SELECT cp.classification, cp.policy,
       (SELECT count(*) FROM resources res WHERE res.tenant_id = cp.tenant_id AND res.classification = cp.classification AND res.policy_from_class)::int AS followers
FROM classification_policies cp WHERE cp.tenant_id = @tenant_id;

-- name: UpsertClassPolicy :exec
INSERT INTO classification_policies (tenant_id, classification, policy, updated_by, updated_at)
VALUES (@tenant_id, @classification, @policy, @actor, @at)
ON CONFLICT (tenant_id, classification) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: UpdateClassFollowers :many
-- Carries a classification's new policy to every resource following it.
UPDATE resources SET policy = @policy
WHERE tenant_id = @tenant_id AND classification = @classification AND policy_from_class
RETURNING id;

-- name: GetVaultBinding :one
SELECT location FROM store_bindings WHERE tenant_id = @tenant_id AND kind = 'vault-kv2' ORDER BY created_at LIMIT 1;

-- name: LockOverduePending :many
-- Pending requests past the pending timeout of the policy snapshot they
-- were submitted under, earliest deadline first: a batch never fills up
-- with older requests whose longer timeouts have not run out.
SELECT * FROM requests WHERE state = 'pending'
  AND submitted_at + ((policy->>'pending_timeout_ns')::bigint / 1000) * interval '1 microsecond' <= @now
ORDER BY submitted_at + ((policy->>'pending_timeout_ns')::bigint / 1000) * interval '1 microsecond' LIMIT 500
FOR UPDATE SKIP LOCKED;

-- name: CountOpenRequestsOf :one
SELECT count(*) FROM requests
WHERE tenant_id = @tenant_id AND resource_id = @resource_id AND requester_subject = @subject
  AND state IN ('pending', 'approved', 'issuing', 'active');

-- name: RequestOwnedElsewhere :one
SELECT EXISTS (SELECT 1 FROM requests WHERE id = @id AND tenant_id <> @tenant_id
               AND (requester_tenant_id IS NULL OR requester_tenant_id <> @tenant_id));

-- name: ResourceOwnedElsewhere :one
SELECT EXISTS (SELECT 1 FROM resources WHERE id = @id AND tenant_id <> @tenant_id);

-- name: ListEligiblePending :many
-- The pending requests of the tenant (and those under a share its people
-- asked for) that the person may decide now, as approvals.Request.Eligible
-- says: not their own, in the audience of the step the request waits on
-- (by role or IdP group; confined to one tenant for a share's steps), and
-- no vote of theirs at that step. Oldest first, up to lim, each row with
-- the total.
SELECT r.id, count(*) OVER () AS total
FROM requests r CROSS JOIN LATERAL (SELECT r.policy->'steps'->r.current_step->'approvers' AS who) s
WHERE (r.tenant_id = @tenant_id OR r.requester_tenant_id = @tenant_id) AND r.state = 'pending'
  AND r.requester_subject <> @subject::text
  AND coalesce(s.who->>'tenant', '') IN ('', @person_tenant::text)
  AND (jsonb_exists_any(s.who->'roles', @roles::text[]) OR jsonb_exists_any(s.who->'groups', @groups::text[]))
  AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.request_id = r.id AND v.step = r.current_step AND v.approver_subject = @subject::text)
ORDER BY r.submitted_at LIMIT @lim;

-- name: ListRequestDetails :many
-- The requests (of the tenant, or under a share its people asked for) with
-- their resource, grant and owner's name: the request page and the inbox.
SELECT r.*, res.name AS resource_name, res.mount, res.path, res.classification, res.store_kind, res.binding_id,
       g.issued_at, g.expires_at, g.ended_at, o.display_name AS owner_name
FROM requests r JOIN resources res ON res.id = r.resource_id LEFT JOIN grants g ON g.request_id = r.id
JOIN tenants o ON o.id = r.tenant_id
WHERE r.id = ANY (@ids::uuid[]) AND (r.tenant_id = @tenant_id OR r.requester_tenant_id = @tenant_id)
ORDER BY r.submitted_at;

-- name: GetRequestDetail :one
-- ListRequestDetails for one request (the request page, the holder's
-- actions), as a statement PostgreSQL plans once (see LockGrantTarget).
-- Same columns: Detail converts this row to ListRequestDetails' type.
SELECT r.*, res.name AS resource_name, res.mount, res.path, res.classification, res.store_kind, res.binding_id,
       g.issued_at, g.expires_at, g.ended_at, o.display_name AS owner_name
FROM requests r JOIN resources res ON res.id = r.resource_id LEFT JOIN grants g ON g.request_id = r.id
JOIN tenants o ON o.id = r.tenant_id
WHERE r.id = @id AND (r.tenant_id = @tenant_id OR r.requester_tenant_id = @tenant_id);

-- name: ListVotesOf :many
SELECT * FROM votes WHERE request_id = ANY (@request_ids::uuid[]) ORDER BY decided_at, step;

-- name: DueGrants :many
SELECT g.request_id FROM grants g JOIN requests r ON r.id = g.request_id
WHERE g.ended_at IS NULL AND g.expires_at <= now() AND r.state = 'active'
ORDER BY g.expires_at LIMIT @max;

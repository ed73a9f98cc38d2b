-- name: InsertResource :one
INSERT INTO resources (tenant_id, name, description, owner_team, classification, store_kind, mount, path, policy, created_by)
VALUES (@tenant_id, @name, @description, @owner_team, @classification, @store_kind, @mount, @path, @policy, @actor)
RETURNING id;

-- name: GetResource :one
SELECT * FROM resources WHERE id = @id AND tenant_id = @tenant_id;

-- name: InsertRequest :one
INSERT INTO requests (tenant_id, resource_id, requester_subject, requester_email, requester, level, duration_seconds,
                      justification, ticket, state, policy, submitted_at, updated_at)
VALUES (@tenant_id, @resource_id, @requester_subject, @requester_email, @requester, @level, @duration_seconds,
        @justification, @ticket, 'pending', @policy, @submitted_at, @submitted_at)
RETURNING id;

-- name: LockRequest :one
SELECT * FROM requests WHERE id = @id AND tenant_id = @tenant_id FOR UPDATE;

-- name: ListVotes :many
SELECT * FROM votes WHERE request_id = @request_id ORDER BY decided_at, step;

-- name: InsertVote :exec
INSERT INTO votes (request_id, step, approver_subject, approver, approve, comment, decided_at)
VALUES (@request_id, @step, @approver_subject, @approver, @approve, @comment, @decided_at);

-- name: UpdateRequestDecision :exec
UPDATE requests SET state = @state, duration_seconds = @duration_seconds, updated_at = @updated_at WHERE id = @id;

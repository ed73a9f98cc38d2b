-- The approvals inbox filters pending requests by eligibility in SQL: a
-- request records the step it waits on (the snapshot's steps are decided in
-- order), so the step's approvers are read from the policy snapshot.

-- +goose Up
ALTER TABLE requests ADD COLUMN current_step int NOT NULL DEFAULT 0;

-- Pending requests already past a step: the number of steps whose quorum
-- of approvals is met (steps are met in order).
UPDATE requests r SET current_step = (
    SELECT count(*) FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(r.policy->'steps') = 'array' THEN r.policy->'steps' ELSE '[]'::jsonb END) WITH ORDINALITY AS s(step, i)
    WHERE (SELECT count(*) FROM votes v WHERE v.request_id = r.id AND v.step = s.i - 1 AND v.approve) >= (s.step->>'required')::int)
WHERE r.state = 'pending' AND EXISTS (SELECT 1 FROM votes v WHERE v.request_id = r.id);

CREATE INDEX requests_pending ON requests (tenant_id, submitted_at) WHERE state = 'pending';
CREATE INDEX requests_pending_shared ON requests (requester_tenant_id, submitted_at) WHERE state = 'pending' AND requester_tenant_id IS NOT NULL;

-- +goose Down
DROP INDEX requests_pending_shared;
DROP INDEX requests_pending;
ALTER TABLE requests DROP COLUMN current_step;

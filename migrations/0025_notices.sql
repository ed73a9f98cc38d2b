-- Who was told: every notice about an object (a break-glass, a request, a
-- share, a revocation — its ref) is recorded with its channel and
-- recipients in the transaction that enqueues it, and its delivery outcome
-- when the notify job finishes or fails. River keeps finished jobs a day
-- (failed ones a week), too short for a review due after 24 hours or more;
-- these rows live as long as the tenant.
--
-- state: pending (not tried yet), retrying (an attempt failed; retried with
-- backoff), delivered, failed (every attempt failed; not retried), not-sent
-- (the channel is not set up: no chat webhook, no mail relay). reason says
-- why in plain words, never a URL or a secret.

-- +goose Up
CREATE TABLE notices (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ref          text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('email', 'chat')),
    recipients   text[] NOT NULL DEFAULT '{}',  -- email addresses; none for the chat webhook
    subject      text NOT NULL,
    urgent       boolean NOT NULL DEFAULT false,
    enqueued_at  timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'retrying', 'delivered', 'failed', 'not-sent')),
    attempts     int NOT NULL DEFAULT 0,
    reason       text NOT NULL DEFAULT '',
    attempted_at timestamptz
);
CREATE INDEX notices_ref ON notices (tenant_id, ref, enqueued_at);

-- The notices River still holds are recorded from its rows, and those not
-- finished yet are told their record, so their outcome lands in it. On a new
-- database River's tables come after these migrations: nothing to copy.
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('river_job') IS NULL THEN
        RETURN;
    END IF;
    CREATE TEMP TABLE notice_backfill ON COMMIT DROP AS
    SELECT j.id AS job_id, coalesce((j.args->>'notice_id')::uuid, gen_random_uuid()) AS notice_id, t.id AS tenant_id, j.args->>'ref' AS ref,
           j.args->>'channel' AS channel,
           ARRAY(SELECT jsonb_array_elements_text(coalesce(j.args->'to', '[]'::jsonb))) AS recipients,
           coalesce(j.args->'message'->>'Subject', '') AS subject,
           coalesce((j.args->'message'->>'Urgent')::boolean, false) AS urgent,
           j.created_at, j.attempt, j.attempted_at, j.state::text AS river_state
    FROM river_job j JOIN tenants t ON t.id::text = j.args->>'tenant_id'
    WHERE j.kind = 'notify' AND coalesce(j.args->>'ref', '') <> '' AND j.args->>'channel' IN ('email', 'chat');
    INSERT INTO notices (id, tenant_id, ref, channel, recipients, subject, urgent, enqueued_at, state, attempts, reason, attempted_at)
    SELECT notice_id, tenant_id, ref, channel, recipients, subject, urgent, created_at,
           CASE river_state WHEN 'completed' THEN 'delivered' WHEN 'discarded' THEN 'failed' WHEN 'cancelled' THEN 'failed'
                            WHEN 'retryable' THEN 'retrying' ELSE 'pending' END,
           attempt,
           CASE river_state WHEN 'completed' THEN ''
                            WHEN 'retryable' THEN 'An attempt failed (before Gatehouse kept delivery reasons; the server log has the error).'
                            WHEN 'discarded' THEN 'Every attempt failed (before Gatehouse kept delivery reasons; the server log has the errors).'
                            WHEN 'cancelled' THEN 'The delivery was cancelled.'
                            ELSE '' END,
           attempted_at
    FROM notice_backfill;
    UPDATE river_job j SET args = j.args || jsonb_build_object('notice_id', b.notice_id::text)
    FROM notice_backfill b
    WHERE j.id = b.job_id AND j.state NOT IN ('completed', 'discarded', 'cancelled');
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE notices;

-- A notice whose delivery job was lost (cancelled, removed, or stopped on
-- its last attempt without recording an outcome) would stay pending or
-- retrying for ever: shown as still on its way, and never swept. The hourly
-- notice sweep now settles such notices as failed once they are older than
-- any real retry schedule (jobs.NoticeLostAfter). This partial index holds
-- only the unsettled notices — a handful at any time — so finding the lost
-- ones reads no settled rows however large the table grows. The price:
-- a delivery update that settles a notice is no longer a HOT update (state
-- is in the index predicate). Deliveries run in background jobs, off every
-- person's path, so that is paid where nobody waits.

-- +goose Up
CREATE INDEX notices_unsettled ON notices (enqueued_at) WHERE state IN ('pending', 'retrying');

-- +goose Down
DROP INDEX notices_unsettled;

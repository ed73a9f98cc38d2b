-- The revocation center lists revocations a page at a time, newest first,
-- by the keyset (created_at, id): it used to list the newest 100 and hide
-- the rest. A tenant's are read from revocations_tenant (tenant_id,
-- created_at DESC), which serves its few well enough; a platform operator
-- sees every tenant's, which nothing indexed in that order: each page read
-- and sorted every revocation (200,000: ~42 ms, a parallel scan of the
-- table; indexed, ~0.1 ms and 8 buffers; EXPLAIN). Revocations are written
-- rarely, so the index costs nothing that matters.

-- +goose Up
CREATE INDEX revocations_page ON revocations (created_at DESC, id DESC);

-- +goose Down
DROP INDEX revocations_page;

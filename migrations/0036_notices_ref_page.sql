-- An object's page (a break-glass, a share) lists the latest notices about
-- it, and says how many there are when it cannot list them all; the
-- notifications page lists one object's notices (?ref=) a page at a time,
-- newest first, by the same keyset (enqueued_at, id) as every notice
-- (0030). Index exactly that order within an object, so both are read
-- straight from the index wherever a page starts (the keyset comparison is
-- its index condition, as the tenant's is on notices_page) and the count
-- is an index-only scan. notices_ref (tenant_id, ref, enqueued_at) lacked
-- id: each page of an object's notices read all of them and sorted (5,000
-- notices of one break-glass: ~2 ms and 140 buffers per page, instead of
-- ~0.1 ms and 6 once indexed; EXPLAIN on 1M notices, 50 tenants). This
-- index replaces it and serves its every use, a revocation's notices too
-- (a nested loop over the tenants, probing (tenant_id, ref)).
--
-- state stays unindexed, so delivery updates stay HOT: a page narrowed to
-- a state reads the object's notices in order until it has a page of them.

-- +goose Up
CREATE INDEX notices_ref_page ON notices (tenant_id, ref, enqueued_at DESC, id DESC);
DROP INDEX notices_ref;

-- +goose Down
CREATE INDEX notices_ref ON notices (tenant_id, ref, enqueued_at);
DROP INDEX notices_ref_page;

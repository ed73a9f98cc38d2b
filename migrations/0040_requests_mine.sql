-- "My requests" lists a person's requests a page at a time, newest first,
-- by the keyset (submitted_at, id): it used to list the newest 200 and hide
-- the rest. A person's requests are those of their tenant's subject, in
-- their own catalog (tenant_id) or in another's under a share
-- (requester_tenant_id), as coalesce(requester_tenant_id, tenant_id) says.
-- Nothing indexed that expression: each page scanned every request of
-- every tenant (1M requests, 10,000 of one person: ~105 ms and 22,000
-- buffers a page; indexed in exactly the page's order, ~1 ms and 600;
-- EXPLAIN). requests_requester (tenant_id, requester_subject, submitted_at)
-- stays, for the queries within one catalog that read it.

-- +goose Up
CREATE INDEX requests_mine ON requests ((coalesce(requester_tenant_id, tenant_id)), requester_subject, submitted_at DESC, id DESC);

-- +goose Down
DROP INDEX requests_mine;

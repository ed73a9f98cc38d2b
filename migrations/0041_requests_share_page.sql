-- A share's page lists the requests made under it a page at a time, newest
-- first, by the keyset (submitted_at, id): it used to list the newest 200
-- and hide the rest. requests_share (share_id) held them in no order: each
-- page read every request of the share and sorted them (80,000 under one
-- share: ~80 ms and 2,600 buffers a page; indexed in exactly the page's
-- order, the keyset comparison its index condition, ~0.5 ms and 600;
-- EXPLAIN). This index replaces requests_share and serves its every use
-- (share_id first).

-- +goose Up
CREATE INDEX requests_share_page ON requests (share_id, submitted_at DESC, id DESC) WHERE share_id IS NOT NULL;
DROP INDEX requests_share;

-- +goose Down
CREATE INDEX requests_share ON requests (share_id) WHERE share_id IS NOT NULL;
DROP INDEX requests_share_page;

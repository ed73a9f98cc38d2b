-- The break-glass page lists a tenant's break-glasses a page at a time,
-- newest first, by the keyset (submitted_at, id): it used to list the
-- newest 200 and hide the rest. A tenant's list holds its own and those
-- its members opened under a share (requester_tenant_id): each side is
-- read from an index in exactly that order, the keyset comparison its
-- index condition, and the page is merged from the two. requests_breakglass
-- (tenant_id, submitted_at DESC) lacked id, and nothing indexed the shared
-- side: each page read and sorted all the tenant's break-glasses (10,000
-- of one tenant: ~108 ms and 51,000 buffers a page, instead of ~2.5 ms and
-- 2,400 once indexed; EXPLAIN on 1M requests, 50,000 break-glasses, 50
-- tenants). requests_breakglass_page replaces requests_breakglass and
-- serves its every use (the same columns first).

-- +goose Up
CREATE INDEX requests_breakglass_page ON requests (tenant_id, submitted_at DESC, id DESC) WHERE kind = 'break-glass';
CREATE INDEX requests_breakglass_requester ON requests (requester_tenant_id, submitted_at DESC, id DESC)
    WHERE kind = 'break-glass' AND requester_tenant_id IS NOT NULL;
DROP INDEX requests_breakglass;

-- +goose Down
CREATE INDEX requests_breakglass ON requests (tenant_id, submitted_at DESC) WHERE kind = 'break-glass';
DROP INDEX requests_breakglass_requester;
DROP INDEX requests_breakglass_page;

-- Access policies per classification: a tenant admin sets one policy for,
-- say, every critical resource, and each resource that follows its
-- classification carries a copy kept in step (resources.policy stays the
-- effective policy every read uses; requests keep their own snapshot).

-- +goose Up
CREATE TABLE classification_policies (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    classification text NOT NULL CHECK (classification IN ('low', 'medium', 'high', 'critical')),
    policy         jsonb NOT NULL,
    updated_by     text NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, classification)
);
ALTER TABLE resources ADD COLUMN policy_from_class boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE resources DROP COLUMN policy_from_class;
DROP TABLE classification_policies;

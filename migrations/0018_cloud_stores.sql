-- Cloud secret stores: a tenant binds AWS Secrets Manager, Azure Key Vault
-- or GCP Secret Manager locations next to its Vault mount. A binding keeps
-- its settings here and its credentials in Vault (credential_ref is the KV
-- path); resources in a cloud store point at their binding.

-- +goose Up
ALTER TABLE store_bindings DROP CONSTRAINT store_bindings_kind_check;
ALTER TABLE store_bindings ADD CONSTRAINT store_bindings_kind_check
    CHECK (kind IN ('vault-kv2', 'aws-secretsmanager', 'azure-keyvault', 'gcp-secretmanager'));
ALTER TABLE store_bindings
    ADD COLUMN name           text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    ADD COLUMN settings       jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN credential_ref text NOT NULL DEFAULT '',
    ADD COLUMN checked_at     timestamptz,
    ADD COLUMN check_error    text NOT NULL DEFAULT '';
ALTER TABLE store_bindings ADD CONSTRAINT store_bindings_cloud_credentials
    CHECK (kind = 'vault-kv2' OR (credential_ref <> '' AND name <> ''));

ALTER TABLE resources DROP CONSTRAINT resources_store_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_store_kind_check
    CHECK (store_kind IN ('vault-kv2', 'aws-secretsmanager', 'azure-keyvault', 'gcp-secretmanager'));
ALTER TABLE resources ADD COLUMN binding_id uuid REFERENCES store_bindings (id);
ALTER TABLE resources ADD CONSTRAINT resources_binding_matches_kind
    CHECK ((store_kind = 'vault-kv2') = (binding_id IS NULL));

INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'tenant-admin', '*', 'stores', 'manage');

-- +goose Down
DELETE FROM casbin_rules WHERE ptype = 'p' AND v1 = '*' AND v2 = 'stores';
DELETE FROM resources WHERE binding_id IS NOT NULL;
ALTER TABLE resources DROP CONSTRAINT resources_binding_matches_kind;
ALTER TABLE resources DROP COLUMN binding_id;
ALTER TABLE resources DROP CONSTRAINT resources_store_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_store_kind_check CHECK (store_kind IN ('vault-kv2'));
DELETE FROM store_bindings WHERE kind <> 'vault-kv2';
ALTER TABLE store_bindings DROP CONSTRAINT store_bindings_cloud_credentials;
ALTER TABLE store_bindings DROP COLUMN check_error, DROP COLUMN checked_at, DROP COLUMN credential_ref,
    DROP COLUMN settings, DROP COLUMN name;
ALTER TABLE store_bindings DROP CONSTRAINT store_bindings_kind_check;
ALTER TABLE store_bindings ADD CONSTRAINT store_bindings_kind_check CHECK (kind IN ('vault-kv2'));

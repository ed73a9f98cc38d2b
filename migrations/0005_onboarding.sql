-- Onboarding wizard progress of a tenant in status 'onboarding'. At
-- activation its IdP and store binding move to identity_providers and
-- store_bindings. The client secret is in Vault, never here.

-- +goose Up
CREATE TABLE onboardings (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer_url         text NOT NULL DEFAULT '',
    endpoints          jsonb NOT NULL DEFAULT '{}',
    scopes             text[] NOT NULL DEFAULT ARRAY['openid', 'email', 'profile', 'groups'],
    groups_claim       text NOT NULL DEFAULT 'groups',
    require_email_verified boolean NOT NULL DEFAULT true,
    step_up_acr        text NOT NULL DEFAULT '',
    client_id          text NOT NULL DEFAULT '',
    client_secret_ref  text NOT NULL DEFAULT '',
    client_verified_at timestamptz,
    vault_mount        text NOT NULL DEFAULT '',
    vault_ready_at     timestamptz,
    test_email         text NOT NULL DEFAULT '',
    test_groups        text[] NOT NULL DEFAULT '{}',
    test_roles         text[] NOT NULL DEFAULT '{}',
    test_at            timestamptz,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE login_attempts ADD COLUMN test boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE login_attempts DROP COLUMN test;
DROP TABLE onboardings;

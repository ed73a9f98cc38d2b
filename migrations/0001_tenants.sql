-- Tenants, their identity providers, IdP group → role mappings and store
-- bindings. Client secrets live in Vault; only a reference is stored here.

-- +goose Up
CREATE TABLE tenants (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,30}[a-z0-9]$'),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    status       text NOT NULL CHECK (status IN ('onboarding', 'active', 'suspended')),
    created_by   text NOT NULL,
    updated_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- An email domain belongs to at most one tenant (home-realm discovery).
CREATE TABLE tenant_email_domains (
    domain    text PRIMARY KEY CHECK (domain = lower(domain)),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_email_domains_tenant ON tenant_email_domains (tenant_id);

CREATE TABLE identity_providers (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer_url             text NOT NULL,
    client_id              text NOT NULL,
    client_secret_ref      text NOT NULL, -- a Vault KV path; never the secret itself
    scopes                 text[] NOT NULL DEFAULT ARRAY['openid', 'email', 'profile'],
    groups_claim           text NOT NULL DEFAULT 'groups',
    require_email_verified boolean NOT NULL DEFAULT true,
    step_up_acr            text NOT NULL DEFAULT '',
    status                 text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    updated_by             text NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_mappings (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    idp_group text NOT NULL CHECK (length(idp_group) > 0),
    role      text NOT NULL CHECK (role IN ('platform-operator', 'tenant-admin', 'approver',
                                            'requester', 'auditor', 'responder')),
    PRIMARY KEY (tenant_id, idp_group, role)
);

-- A store binding ties a tenant to a secret store location. kind is open
-- for the cloud stores; for Vault KV v2, location is the tenant's mount.
CREATE TABLE store_bindings (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('vault-kv2')),
    location   text NOT NULL CHECK (length(location) > 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, location)
);
CREATE INDEX store_bindings_tenant ON store_bindings (tenant_id);

-- +goose Down
DROP TABLE store_bindings;
DROP TABLE role_mappings;
DROP TABLE identity_providers;
DROP TABLE tenant_email_domains;
DROP TABLE tenants;

-- Members: everyone who has signed in to a tenant, with the roles of their
-- last sign-in, for tenant admins' members view.

-- +goose Up
CREATE TABLE members (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject       text NOT NULL,
    email         text NOT NULL,
    display_name  text NOT NULL,
    groups        text[] NOT NULL,
    roles         text[] NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, subject)
);

-- +goose Down
DROP TABLE members;

-- A tenant's email channel: whether its notifications go out by email at
-- all, and through which relay. An empty smtp_addr means Gatehouse's own
-- relay (server configuration); otherwise the organization's relay, always
-- over STARTTLS. The relay's password is never here: it is in Vault at
-- smtp_secret_ref ('' when the relay takes no login).

-- +goose Up
ALTER TABLE tenant_channels
    ADD COLUMN email_enabled   boolean NOT NULL DEFAULT true,
    ADD COLUMN smtp_addr       text NOT NULL DEFAULT '',
    ADD COLUMN smtp_from       text NOT NULL DEFAULT '',
    ADD COLUMN smtp_username   text NOT NULL DEFAULT '',
    ADD COLUMN smtp_secret_ref text NOT NULL DEFAULT '',
    ADD CONSTRAINT tenant_channels_relay CHECK (smtp_addr <> '' OR (smtp_from = '' AND smtp_username = '' AND smtp_secret_ref = '')),
    ADD CONSTRAINT tenant_channels_login CHECK ((smtp_username = '') = (smtp_secret_ref = ''));

CREATE INDEX notices_recent ON notices (tenant_id, enqueued_at DESC);

-- +goose Down
DROP INDEX notices_recent;
ALTER TABLE tenant_channels
    DROP CONSTRAINT tenant_channels_login,
    DROP CONSTRAINT tenant_channels_relay,
    DROP COLUMN smtp_secret_ref,
    DROP COLUMN smtp_username,
    DROP COLUMN smtp_from,
    DROP COLUMN smtp_addr,
    DROP COLUMN email_enabled;

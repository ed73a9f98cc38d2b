-- The application's database role, gatehouse_app: everything it needs,
-- but no UPDATE, DELETE or TRUNCATE on the audit trail (the trigger of
-- 0009 refuses them too; this makes it a permission, not only a rule).
-- Run Gatehouse as a login role that is a member of gatehouse_app, and the
-- migrations as the schema owner. Creating the role needs CREATEROLE; where
-- the migrating user lacks it, the role is left for the operator to create
-- (the README shows how) and this migration only grants when it exists.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolsuper)) THEN
            CREATE ROLE gatehouse_app NOLOGIN;
        ELSE
            RAISE NOTICE 'gatehouse_app does not exist and % cannot create it: create it, then re-grant (see README)', current_user;
            RETURN;
        END IF;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO gatehouse_app', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO gatehouse_app', current_schema());
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO gatehouse_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gatehouse_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO gatehouse_app', current_schema());
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM gatehouse_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_verifications FROM gatehouse_app;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM gatehouse_app', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM gatehouse_app', current_schema());
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM gatehouse_app', current_schema());
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM gatehouse_app', current_schema());
    END IF;
END
$$;
-- +goose StatementEnd

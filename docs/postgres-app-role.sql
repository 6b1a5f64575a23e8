-- The PostgreSQL role `integritet serve` runs as: it reads and writes the data, appends to the
-- audit log, and can neither change nor delete an audit entry, so a stolen application
-- password cannot rewrite history. Migrations run as the database's owner instead:
--
--   integritet --database-url postgres://OWNER@HOST/DATABASE store migrate
--   psql postgres://OWNER@HOST/DATABASE -f docs/postgres-app-role.sql
--   integritet --database-url postgres://integritet_app:PASSWORD@HOST/DATABASE serve
--
-- Replace integritet_app and the password. Run `store migrate` as the owner again after an
-- upgrade; the default privileges below give the role the tables a later migration adds.
CREATE ROLE integritet_app LOGIN PASSWORD 'change-me';
GRANT USAGE ON SCHEMA public TO integritet_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO integritet_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO integritet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO integritet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO integritet_app;
-- The audit log: read and append, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM integritet_app;

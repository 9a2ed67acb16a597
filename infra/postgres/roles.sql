-- Least privilege for the registry on PostgreSQL: an owner role that runs the migrations
-- (it owns the tables and the ledger's append-only triggers) and an application role that
-- reads and writes rows but cannot drop, alter or disable anything.
--
-- Run once per registry database, as a role allowed to create roles (psql variables):
--   psql -v owner=retrain_owner -v app=retrain_app -v db=retrain -f infra/postgres/roles.sql
-- then set the passwords from your secret manager (\password retrain_owner, ...), migrate
-- as the owner, and grant the application its rows:
--   RETRAIN_DATABASE_URL=postgresql://retrain_owner@host/retrain retrain migrate
--   psql -v app=retrain_app -d retrain -f infra/postgres/grants.sql
-- The services (flows, CLI, workers) connect as the application role.
-- tests/infra/test_postgres_roles.py runs exactly this on the local server.

CREATE ROLE :"owner" LOGIN;
CREATE ROLE :"app" LOGIN;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
\connect :"db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";
-- Tables the owner's migrations create are the application's to read and write rows in.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- After each migration (run by the owner role): what the application role may do to rows.
--   psql -v app=retrain_app -d retrain -f infra/postgres/grants.sql
-- Rows only, never schema: no DROP, ALTER, TRUNCATE or trigger changes (those need the
-- owner). The ledger is append-only for the application: insert and read, nothing else
-- (its triggers refuse UPDATE and DELETE from anyone; this refuses them before that).

GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM :"app";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM :"app";

-- Lift the guard from one legacy table: its triggers, its counters (their last values go to
-- the ledger first) and its registration. The privileges `--app-role` revoked are granted back
-- by the statements oprun-cutover appends. One implicit transaction, like guard_enforce.sql.
SET LOCAL client_min_messages = warning;
SET LOCAL standard_conforming_strings = on;
DROP TRIGGER IF EXISTS oprun_guard_enforce ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_insert ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_update ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_delete ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_truncate ON {table};
DROP SEQUENCE IF EXISTS {blocked_seq}, {last_hit_seq};
DELETE FROM {schema}.oprun_guard_revoked WHERE table_name = {table_name};
DELETE FROM {schema}.oprun_guard_tables WHERE table_name = {table_name};

-- Guard one legacy table in observe mode: writes go through and each statement is recorded in
-- oprun_guard_observed. One implicit transaction, like guard_enforce.sql. The counter sequences
-- are created here too, so switching to enforce later keeps one history.
SET LOCAL client_min_messages = warning;
SET LOCAL standard_conforming_strings = on;
CREATE SEQUENCE IF NOT EXISTS {blocked_seq} AS bigint MINVALUE 0 START WITH 1;
CREATE SEQUENCE IF NOT EXISTS {last_hit_seq} AS bigint MINVALUE 0 START WITH 0;
GRANT SELECT ON SEQUENCE {blocked_seq}, {last_hit_seq} TO PUBLIC;
DROP TRIGGER IF EXISTS oprun_guard_enforce ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_insert ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_update ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_delete ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_truncate ON {table};
-- One trigger per event: a trigger with transition tables may only have one event.
CREATE TRIGGER oprun_guard_observe_insert
    AFTER INSERT ON {table} REFERENCING NEW TABLE AS oprun_new
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.oprun_guard_observe();
CREATE TRIGGER oprun_guard_observe_update
    AFTER UPDATE ON {table} REFERENCING NEW TABLE AS oprun_new
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.oprun_guard_observe();
CREATE TRIGGER oprun_guard_observe_delete
    AFTER DELETE ON {table} REFERENCING OLD TABLE AS oprun_old
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.oprun_guard_observe();
CREATE TRIGGER oprun_guard_observe_truncate
    AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.oprun_guard_observe();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER oprun_guard_observe_insert;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER oprun_guard_observe_update;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER oprun_guard_observe_delete;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER oprun_guard_observe_truncate;
INSERT INTO {schema}.oprun_guard_tables (table_name, source, mode, blocked_seq, last_hit_seq)
VALUES ({table_name}, {source}, 'observe', {blocked_seq_name}, {last_hit_seq_name})
ON CONFLICT (table_name) DO UPDATE
SET mode = EXCLUDED.mode, blocked_seq = EXCLUDED.blocked_seq,
    last_hit_seq = EXCLUDED.last_hit_seq, updated_at = clock_timestamp();

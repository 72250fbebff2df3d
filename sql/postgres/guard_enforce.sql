-- Guard one legacy table in enforce mode: every write statement raises SQLSTATE OP001 and is
-- counted. oprun-cutover sends this as one message, which PostgreSQL runs as one implicit
-- transaction: the table is guarded whole or not at all, so a re-run after a crash or a lock
-- timeout converges. The counters are kept across mode switches. The names in braces are quoted
-- identifiers and literals filled in by src/legacy/ddl.rs.
SET LOCAL client_min_messages = warning;
SET LOCAL standard_conforming_strings = on;
CREATE SEQUENCE IF NOT EXISTS {blocked_seq} AS bigint MINVALUE 0 START WITH 1;
CREATE SEQUENCE IF NOT EXISTS {last_hit_seq} AS bigint MINVALUE 0 START WITH 0;
GRANT SELECT ON SEQUENCE {blocked_seq}, {last_hit_seq} TO PUBLIC;
DROP TRIGGER IF EXISTS oprun_guard_observe_insert ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_update ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_delete ON {table};
DROP TRIGGER IF EXISTS oprun_guard_observe_truncate ON {table};
DROP TRIGGER IF EXISTS oprun_guard_enforce ON {table};
CREATE TRIGGER oprun_guard_enforce
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.oprun_guard_block({blocked_seq_arg}, {last_hit_seq_arg});
-- ALWAYS: sessions with session_replication_role = replica are blocked too.
ALTER TABLE {table} ENABLE ALWAYS TRIGGER oprun_guard_enforce;
INSERT INTO {schema}.oprun_guard_tables (table_name, source, mode, blocked_seq, last_hit_seq)
VALUES ({table_name}, {source}, 'enforce', {blocked_seq_name}, {last_hit_seq_name})
ON CONFLICT (table_name) DO UPDATE
SET mode = EXCLUDED.mode, blocked_seq = EXCLUDED.blocked_seq,
    last_hit_seq = EXCLUDED.last_hit_seq, updated_at = clock_timestamp();

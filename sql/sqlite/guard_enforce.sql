-- Guard one legacy table in enforce mode: every INSERT, UPDATE and DELETE aborts with a message
-- that starts with OP001 (SQLite has no SQLSTATE) and names the table, the operation and the
-- replacement. SQLite triggers fire per row, so a statement that matches no row writes nothing
-- and is not refused. Runs inside the run's transaction. See postgres/guard_enforce.sql.
DROP TRIGGER IF EXISTS {observe_insert};
DROP TRIGGER IF EXISTS {observe_update};
DROP TRIGGER IF EXISTS {observe_delete};
DROP TRIGGER IF EXISTS {enforce_insert};
DROP TRIGGER IF EXISTS {enforce_update};
DROP TRIGGER IF EXISTS {enforce_delete};
CREATE TRIGGER {enforce_insert} BEFORE INSERT ON {table}
BEGIN
    SELECT RAISE(ABORT, {blocked_insert});
END;
CREATE TRIGGER {enforce_update} BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, {blocked_update});
END;
CREATE TRIGGER {enforce_delete} BEFORE DELETE ON {table}
BEGIN
    SELECT RAISE(ABORT, {blocked_delete});
END;
INSERT INTO oprun_guard_tables (table_name, source, mode)
VALUES ({table_name}, {source}, 'enforce')
ON CONFLICT (table_name) DO UPDATE
SET mode = excluded.mode, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');

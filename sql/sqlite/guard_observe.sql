-- Guard one legacy table in observe mode: writes go through and each written row is recorded
-- in oprun_guard_observed (SQLite triggers fire per row). See postgres/guard_observe.sql.
DROP TRIGGER IF EXISTS {enforce_insert};
DROP TRIGGER IF EXISTS {enforce_update};
DROP TRIGGER IF EXISTS {enforce_delete};
DROP TRIGGER IF EXISTS {observe_insert};
DROP TRIGGER IF EXISTS {observe_update};
DROP TRIGGER IF EXISTS {observe_delete};
CREATE TRIGGER {observe_insert} AFTER INSERT ON {table}
BEGIN
    INSERT INTO oprun_guard_observed (table_name, operation, row_count)
    VALUES ({table_name}, 'INSERT', 1);
END;
CREATE TRIGGER {observe_update} AFTER UPDATE ON {table}
BEGIN
    INSERT INTO oprun_guard_observed (table_name, operation, row_count)
    VALUES ({table_name}, 'UPDATE', 1);
END;
CREATE TRIGGER {observe_delete} AFTER DELETE ON {table}
BEGIN
    INSERT INTO oprun_guard_observed (table_name, operation, row_count)
    VALUES ({table_name}, 'DELETE', 1);
END;
INSERT INTO oprun_guard_tables (table_name, source, mode)
VALUES ({table_name}, {source}, 'observe')
ON CONFLICT (table_name) DO UPDATE
SET mode = excluded.mode, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');

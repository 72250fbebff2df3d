-- Lift the guard from one legacy table: its triggers and its registration.
DROP TRIGGER IF EXISTS {enforce_insert};
DROP TRIGGER IF EXISTS {enforce_update};
DROP TRIGGER IF EXISTS {enforce_delete};
DROP TRIGGER IF EXISTS {observe_insert};
DROP TRIGGER IF EXISTS {observe_update};
DROP TRIGGER IF EXISTS {observe_delete};
DELETE FROM oprun_guard_tables WHERE table_name = {table_name};

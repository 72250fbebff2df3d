-- The legacy guard's shared objects and the guard state monitoring reads with plain SQL:
-- `SELECT * FROM oprun_guard_state;`. Same logical change as postgres/V4, within what SQLite
-- can do: no roles (so nothing is revoked), no statement-level triggers, and nothing survives
-- a rolled-back statement, so a blocked write cannot be counted (blocked_count is NULL, never 0).
-- The per-table triggers are created by `guard install`.

CREATE TABLE IF NOT EXISTS oprun_guard_tables (
    table_name   TEXT PRIMARY KEY,
    source       TEXT NOT NULL CHECK (source IN ('root', 'foreign_key', 'option')),
    mode         TEXT NOT NULL CHECK (mode IN ('observe', 'enforce')),
    installed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Observe mode: SQLite triggers are per row, so one record per row written (row_count 1).
-- SQLite has no roles and no application_name: those columns stay NULL.
CREATE TABLE IF NOT EXISTS oprun_guard_observed (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    table_name       TEXT NOT NULL,
    operation        TEXT NOT NULL,
    role_name        TEXT,
    login_role       TEXT,
    application_name TEXT,
    row_count        INTEGER
);
CREATE INDEX IF NOT EXISTS oprun_guard_observed_table_at ON oprun_guard_observed (table_name, at);

-- One row per guarded table, from the live schema. Trigger names carry the table name
-- (SQLite trigger names are per database): oprun_guard_enforce_<op>__<table> and
-- oprun_guard_observe_<op>__<table>. SQLite triggers cannot be disabled, only dropped.
CREATE VIEW IF NOT EXISTS oprun_guard_state AS
WITH f AS (
    SELECT g.*,
           EXISTS (SELECT 1 FROM sqlite_schema t
                   WHERE t.type = 'table' AND t.name = g.table_name) AS table_exists,
           (SELECT count(*) FROM sqlite_schema t
            WHERE t.type = 'trigger' AND t.tbl_name = g.table_name
              AND t.name IN ('oprun_guard_enforce_insert__' || g.table_name,
                             'oprun_guard_enforce_update__' || g.table_name,
                             'oprun_guard_enforce_delete__' || g.table_name)) AS enforce_present,
           (SELECT count(*) FROM sqlite_schema t
            WHERE t.type = 'trigger' AND t.tbl_name = g.table_name
              AND t.name IN ('oprun_guard_observe_insert__' || g.table_name,
                             'oprun_guard_observe_update__' || g.table_name,
                             'oprun_guard_observe_delete__' || g.table_name)) AS observe_present,
           (SELECT count(*) FROM oprun_guard_observed o WHERE o.table_name = g.table_name) AS observed_writes,
           (SELECT sum(o.row_count) FROM oprun_guard_observed o WHERE o.table_name = g.table_name) AS observed_rows,
           (SELECT max(o.at) FROM oprun_guard_observed o WHERE o.table_name = g.table_name) AS last_observed_at
    FROM oprun_guard_tables g
), p AS (
    SELECT f.*,
           CASE
               WHEN NOT f.table_exists THEN NULL
               WHEN f.enforce_present = 3 THEN NULL
               WHEN f.enforce_present > 0 THEN 'some guard triggers are missing: not every write is blocked'
               WHEN f.observe_present = 0 AND f.mode = 'enforce' THEN 'the guard triggers are missing'
               WHEN f.observe_present = 0 THEN 'the observe triggers are missing: writes are neither blocked nor recorded'
               WHEN f.observe_present < 3 THEN 'observe mode, but some observe triggers are missing'
               ELSE 'observe mode: writes are allowed and recorded, not blocked'
           END AS problem
    FROM f
)
SELECT table_name,
       source,
       mode AS intended_mode,
       table_exists,
       CASE WHEN NOT table_exists THEN NULL
            WHEN enforce_present > 0 THEN 'enforce'
            WHEN observe_present > 0 THEN 'observe'
       END AS mode,
       CASE WHEN enforce_present = 3 OR (enforce_present = 0 AND observe_present = 3) THEN 'always'
            WHEN enforce_present > 0 OR observe_present > 0 THEN 'incomplete'
       END AS trigger_enabled,
       NULL AS blocked_count,
       NULL AS last_blocked_at,
       observed_writes,
       observed_rows,
       last_observed_at,
       '[]' AS revoked,
       NOT table_exists OR problem IS NULL AS holds,
       problem,
       installed_at,
       updated_at
FROM p;

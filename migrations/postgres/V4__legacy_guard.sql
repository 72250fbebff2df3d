-- The legacy guard's shared objects (SPEC §3, §5): what `guard install` remembers, the trigger
-- functions it attaches to every legacy table, the observe-mode record, and the guard state
-- monitoring reads with plain SQL: `SELECT * FROM oprun_guard_state;`.
--
-- Per-table objects (the triggers and the two counter sequences of each table) are created by
-- `guard install`, because the legacy family is only known at run time. Nothing here touches
-- an application table, so adopting an existing database cannot trip on it.

-- One row per table the guard was installed on, with the mode asked for. Remembers tables named
-- with --legacy-table, and the counter sequences' names.
CREATE TABLE IF NOT EXISTS oprun_guard_tables (
    table_name   text PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('root', 'foreign_key', 'option')),
    mode         text NOT NULL CHECK (mode IN ('observe', 'enforce')),
    blocked_seq  text NOT NULL,
    last_hit_seq text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Privileges `guard install --app-role` revoked: exactly what `guard remove` grants back.
CREATE TABLE IF NOT EXISTS oprun_guard_revoked (
    table_name text NOT NULL,
    role_name  text NOT NULL,
    privilege  text NOT NULL CHECK (privilege IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
    grantable  boolean NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (table_name, role_name, privilege)
);

-- Observe mode: one row per write statement on a legacy table. Written in the writer's
-- transaction, so a write that rolls back leaves no record (it did not happen).
CREATE TABLE IF NOT EXISTS oprun_guard_observed (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_name       text NOT NULL,
    operation        text NOT NULL,
    role_name        text,
    login_role       text,
    application_name text,
    row_count        bigint
);
CREATE INDEX IF NOT EXISTS oprun_guard_observed_table_at ON oprun_guard_observed (table_name, at);

-- Enforce: refuse the statement with SQLSTATE OP001 (class OP: used by no standard and by no
-- PostgreSQL code). Before that, count it: TG_ARGV[0] is the table's blocked-write counter and
-- TG_ARGV[1] its last-hit clock (epoch milliseconds), both sequences given schema-qualified.
-- nextval and setval are not undone when the refused statement's transaction rolls back, so
-- every attempt stays counted. SECURITY DEFINER: writers need no right on the sequences.
CREATE OR REPLACE FUNCTION oprun_guard_block() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM pg_catalog.nextval(pg_catalog.to_regclass(TG_ARGV[0]));
    PERFORM pg_catalog.setval(pg_catalog.to_regclass(TG_ARGV[1]),
        (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000)::bigint);
    RAISE EXCEPTION USING
        ERRCODE = 'OP001',
        MESSAGE = pg_catalog.format(
            'legacy table %I.%I is retired: %s is blocked; write to operation_runs instead',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        HINT = 'blocked by the oprun-cutover guard (RUNBOOK.md, "guard")';
    RETURN NULL;
END
$fn$;

-- Observe: record the write and let it through. The role is the one in effect (SET ROLE
-- included), the login role is session_user; INSERT/UPDATE/DELETE count their rows from the
-- transition tables, TRUNCATE has none. Created through format() so the record table's name is
-- schema-qualified while search_path stays pinned to pg_catalog.
DO $v4$
BEGIN
    EXECUTE pg_catalog.format($ddl$
        CREATE OR REPLACE FUNCTION %1$I.oprun_guard_observe() RETURNS trigger
        LANGUAGE plpgsql
        SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $fn$
        DECLARE
            n bigint;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                SELECT count(*) INTO n FROM oprun_new;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT count(*) INTO n FROM oprun_old;
            END IF;
            INSERT INTO %1$I.oprun_guard_observed
                (table_name, operation, role_name, login_role, application_name, row_count)
            VALUES (TG_TABLE_NAME, TG_OP,
                    CASE current_setting('role') WHEN 'none' THEN session_user::text
                         ELSE current_setting('role') END,
                    session_user::text, current_setting('application_name'), n);
            RETURN NULL;
        END
        $fn$
    $ddl$, current_schema());
END
$v4$;

-- Only oprun-cutover attaches these (CREATE TRIGGER needs EXECUTE); firing needs no grant.
REVOKE EXECUTE ON FUNCTION oprun_guard_block(), oprun_guard_observe() FROM PUBLIC;

-- The guard state, one row per guarded table, from the live catalog: what on-call and
-- dashboards read. `holds` is true when writes to the table are blocked and counted (or the
-- table is gone); `problem` says why not. Catalog names are matched in this view's own schema
-- (the regclass constants are fixed when the view is created).
CREATE OR REPLACE VIEW oprun_guard_state AS
WITH ns AS (
    SELECT n.oid, n.nspname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = 'oprun_guard_tables'::regclass
), g AS (
    SELECT r.*,
           ns.nspname,
           t.oid AS relid,
           (SELECT s.oid FROM pg_class s
            WHERE s.relnamespace = ns.oid AND s.relname = r.blocked_seq AND s.relkind = 'S') AS blocked_oid,
           (SELECT s.oid FROM pg_class s
            WHERE s.relnamespace = ns.oid AND s.relname = r.last_hit_seq AND s.relkind = 'S') AS last_hit_oid
    FROM oprun_guard_tables r
    CROSS JOIN ns
    LEFT JOIN pg_class t
           ON t.relnamespace = ns.oid AND t.relname = r.table_name AND t.relkind IN ('r', 'p')
), f AS (
    SELECT g.*,
           e.tgenabled AS enforce_enabled,
           coalesce(e.tgtype = 62 AND e.tgfoid = 'oprun_guard_block()'::regprocedure, false) AS enforce_valid,
           (SELECT count(*) FROM pg_trigger o
            WHERE o.tgrelid = g.relid
              AND o.tgfoid = 'oprun_guard_observe()'::regprocedure
              AND o.tgname IN ('oprun_guard_observe_insert', 'oprun_guard_observe_update',
                               'oprun_guard_observe_delete', 'oprun_guard_observe_truncate')) AS observe_present,
           (SELECT count(*) FROM pg_trigger o
            WHERE o.tgrelid = g.relid
              AND o.tgfoid = 'oprun_guard_observe()'::regprocedure
              AND o.tgname IN ('oprun_guard_observe_insert', 'oprun_guard_observe_update',
                               'oprun_guard_observe_delete', 'oprun_guard_observe_truncate')
              AND o.tgenabled = 'A') AS observe_always,
           -- oprun_guard_block() counts as its owner: that role must be able to advance both.
           coalesce((SELECT has_sequence_privilege(p.proowner, g.blocked_oid, 'UPDATE')
                            AND has_sequence_privilege(p.proowner, g.last_hit_oid, 'UPDATE')
                     FROM pg_proc p WHERE p.oid = 'oprun_guard_block()'::regprocedure), false) AS counter_usable,
           (SELECT q.last_value FROM pg_sequences q
            WHERE q.schemaname = g.nspname AND q.sequencename = g.blocked_seq) AS blocked_value,
           (SELECT q.last_value FROM pg_sequences q
            WHERE q.schemaname = g.nspname AND q.sequencename = g.last_hit_seq) AS last_hit_value
    FROM g
    LEFT JOIN pg_trigger e ON e.tgrelid = g.relid AND e.tgname = 'oprun_guard_enforce'
), p AS (
    SELECT f.*,
           CASE
               WHEN f.relid IS NULL THEN NULL
               WHEN f.enforce_enabled IS NOT NULL AND NOT f.enforce_valid THEN
                   'the trigger oprun_guard_enforce was altered: it is not the oprun_guard_block() statement trigger for INSERT, UPDATE, DELETE and TRUNCATE'
               WHEN f.enforce_enabled = 'D' THEN
                   'the guard trigger oprun_guard_enforce is disabled'
               WHEN f.enforce_enabled IN ('O', 'R') THEN
                   'the guard trigger oprun_guard_enforce is not ENABLE ALWAYS, so session_replication_role can bypass it'
               WHEN f.enforce_enabled = 'A' AND (f.blocked_oid IS NULL OR f.last_hit_oid IS NULL) THEN
                   'the blocked-write counter sequences ' || f.blocked_seq || ', ' || f.last_hit_seq || ' are missing'
               WHEN f.enforce_enabled = 'A' AND NOT f.counter_usable THEN
                   'the owner of oprun_guard_block() cannot advance the counter sequences, so blocked writes fail with SQLSTATE 42501 and are not counted: run guard install as the role that ran migrate'
               WHEN f.enforce_enabled = 'A' THEN NULL
               WHEN f.observe_present = 0 AND f.mode = 'enforce' THEN
                   'the guard trigger oprun_guard_enforce is missing'
               WHEN f.observe_present = 0 THEN
                   'the observe triggers are missing: writes are neither blocked nor recorded'
               WHEN f.observe_present < 4 THEN
                   'observe mode, but some observe triggers are missing'
               WHEN f.observe_always < 4 THEN
                   'observe mode, but some observe triggers are not ENABLE ALWAYS'
               ELSE 'observe mode: writes are allowed and recorded, not blocked'
           END AS problem
    FROM f
)
SELECT p.table_name,
       p.source,
       p.mode AS intended_mode,
       p.relid IS NOT NULL AS table_exists,
       CASE WHEN p.relid IS NULL THEN NULL
            WHEN p.enforce_enabled IS NOT NULL THEN 'enforce'
            WHEN p.observe_present > 0 THEN 'observe'
       END AS mode,
       CASE WHEN p.enforce_enabled IS NOT NULL THEN
                CASE p.enforce_enabled WHEN 'A' THEN 'always' WHEN 'O' THEN 'origin'
                                       WHEN 'R' THEN 'replica' ELSE 'disabled' END
            WHEN p.observe_present = 0 THEN NULL
            WHEN p.observe_present < 4 THEN 'incomplete'
            WHEN p.observe_always < 4 THEN 'not_always'
            ELSE 'always'
       END AS trigger_enabled,
       CASE WHEN p.blocked_oid IS NULL THEN NULL ELSE coalesce(p.blocked_value, 0) END AS blocked_count,
       to_timestamp(p.last_hit_value / 1000.0) AS last_blocked_at,
       o.writes AS observed_writes,
       o.rows AS observed_rows,
       o.last_at AS last_observed_at,
       coalesce((
           SELECT jsonb_agg(jsonb_build_object(
                      'role', r.role_name,
                      'privilege', r.privilege,
                      'grantable', r.grantable,
                      'role_exists', ro.oid IS NOT NULL,
                      'effective', coalesce(p.relid IS NOT NULL AND ro.oid IS NOT NULL
                                            AND has_table_privilege(ro.oid, p.relid, r.privilege), false))
                  ORDER BY r.role_name, r.privilege)
           FROM oprun_guard_revoked r
           LEFT JOIN pg_roles ro ON ro.rolname = r.role_name
           WHERE r.table_name = p.table_name), '[]'::jsonb) AS revoked,
       p.relid IS NULL OR p.problem IS NULL AS holds,
       p.problem,
       p.installed_at,
       p.updated_at
FROM p
LEFT JOIN LATERAL (
    SELECT count(*) AS writes, sum(x.row_count) AS rows, max(x.at) AS last_at
    FROM oprun_guard_observed x
    WHERE x.table_name = p.table_name
) o ON true;

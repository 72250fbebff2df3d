-- Everything `plan`, `migrate` and `status` need to know about the target schema ($1), in one
-- round trip, as one JSON document. Reads the catalog only.
WITH s AS (
    SELECT oid FROM pg_namespace WHERE nspname = $1
), rel AS (
    SELECT c.oid, c.relname, c.reltuples
    FROM pg_class c JOIN s ON c.relnamespace = s.oid
    WHERE c.relkind IN ('r', 'p')
), runs AS (
    SELECT oid, reltuples FROM rel WHERE relname = 'operation_runs'
)
SELECT json_build_object(
    'schema_exists', EXISTS (SELECT 1 FROM s),
    -- default_ only: `plan` itself reads inside a READ ONLY transaction.
    'read_only', current_setting('default_transaction_read_only') = 'on',
    'in_recovery', pg_is_in_recovery(),
    'history_exists', EXISTS (SELECT 1 FROM rel WHERE relname = 'oprun_cutover_history'),
    'runs_exists', EXISTS (SELECT 1 FROM runs),
    'registry_exists', EXISTS (SELECT 1 FROM rel WHERE relname = 'operation_types'),
    'ledger_exists', EXISTS (SELECT 1 FROM rel WHERE relname = 'oprun_cutover_ledger'),
    -- -1: never analyzed (PostgreSQL 14+), so the size is unknown.
    'row_estimate', coalesce((SELECT reltuples::bigint FROM runs), 0),
    'columns', coalesce((
        SELECT json_agg(json_build_object(
                   'name', a.attname,
                   'data_type', format_type(a.atttypid, a.atttypmod),
                   'not_null', a.attnotnull) ORDER BY a.attnum)
        FROM pg_attribute a JOIN runs ON a.attrelid = runs.oid
        WHERE a.attnum > 0 AND NOT a.attisdropped), '[]'),
    'indexes', coalesce((
        SELECT json_agg(json_build_object(
                   'name', i.relname,
                   'valid', x.indisvalid AND x.indisready) ORDER BY i.relname)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN runs ON x.indrelid = runs.oid), '[]'),
    'unvalidated', coalesce((
        SELECT json_agg(k.conname ORDER BY k.conname)
        FROM pg_constraint k JOIN runs ON k.conrelid = runs.oid
        -- only the tool's own: an application's unvalidated constraint is its own business
        WHERE NOT k.convalidated AND k.conname LIKE 'oprun\_%'), '[]')
)::text

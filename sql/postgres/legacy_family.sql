-- The legacy family in schema $1: bulk_operation_runs, the tables named in $2 (a JSON array),
-- and every table that references a family table by foreign key, recursively. For each: how
-- it joined the family and the family tables it references (for the drop order). Also the
-- named tables that do not exist, and whether the guard's objects (V4) are there. Catalog only.
-- The canonical tables and the tool's own are never legacy, even when they reference one.
WITH RECURSIVE s AS (
    SELECT oid FROM pg_namespace WHERE nspname = $1
), named AS (
    SELECT 'bulk_operation_runs' AS name, 'root' AS source
    UNION
    SELECT n, 'option' FROM json_array_elements_text($2::json) AS n
    WHERE n <> 'bulk_operation_runs'
), fam(oid, source) AS (
    SELECT c.oid, named.source
    FROM named
    JOIN pg_class c ON c.relname = named.name AND c.relkind IN ('r', 'p')
    JOIN s ON c.relnamespace = s.oid
    UNION
    SELECT k.conrelid, 'foreign_key'
    FROM pg_constraint k
    JOIN fam ON k.confrelid = fam.oid
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN s ON c.relnamespace = s.oid
    WHERE k.contype = 'f'
      AND c.relname NOT IN ('operation_runs', 'operation_types', 'operation_summary_keys')
      AND c.relname NOT LIKE 'oprun\_%'
), member AS (
    -- A table reached several ways keeps the first reason: root, then foreign key, then option.
    SELECT DISTINCT ON (oid) oid, source
    FROM fam
    ORDER BY oid, CASE source WHEN 'root' THEN 0 WHEN 'foreign_key' THEN 1 ELSE 2 END
)
SELECT json_build_object(
    'schema_exists', EXISTS (SELECT 1 FROM s),
    'guard_schema', EXISTS (
        SELECT 1 FROM pg_class c JOIN s ON c.relnamespace = s.oid
        WHERE c.relname = 'oprun_guard_state' AND c.relkind = 'v'),
    'tables', coalesce((
        SELECT json_agg(json_build_object(
                   'name', c.relname,
                   'source', m.source,
                   'references', coalesce((
                       SELECT json_agg(DISTINCT p.relname)
                       FROM pg_constraint k
                       JOIN member pm ON pm.oid = k.confrelid
                       JOIN pg_class p ON p.oid = k.confrelid
                       WHERE k.conrelid = m.oid AND k.contype = 'f' AND k.confrelid <> m.oid), '[]'))
               ORDER BY c.relname)
        FROM member m JOIN pg_class c ON c.oid = m.oid), '[]'),
    'missing', coalesce((
        SELECT json_agg(named.name ORDER BY named.name)
        FROM named
        WHERE named.source = 'option'
          AND NOT EXISTS (
              SELECT 1 FROM pg_class c JOIN s ON c.relnamespace = s.oid
              WHERE c.relname = named.name AND c.relkind IN ('r', 'p'))), '[]')
)::text

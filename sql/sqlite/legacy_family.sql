-- The legacy family: bulk_operation_runs, the tables named in ?2 (a JSON array; ?1 is the
-- schema, always main), and every table that references a family table by foreign key,
-- recursively, with the family tables each references (for the drop order). See
-- postgres/legacy_family.sql. SQLite table names compare without case, as SQLite resolves them.
-- The canonical tables and the tool's own are never legacy, even when they reference one.
WITH RECURSIVE tables AS (
    SELECT name FROM sqlite_schema
    WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'oprun\_%' ESCAPE '\'
      AND name NOT IN ('operation_runs', 'operation_types', 'operation_summary_keys')
), edges(child, parent) AS (
    SELECT t.name, p.name
    FROM tables t
    JOIN pragma_foreign_key_list(t.name) k
    JOIN tables p ON p.name = k."table" COLLATE NOCASE
), named(name, source) AS (
    SELECT 'bulk_operation_runs', 'root'
    UNION
    SELECT value, 'option' FROM json_each(?2) WHERE value <> 'bulk_operation_runs'
), fam(name, source) AS (
    SELECT t.name, n.source FROM named n JOIN tables t ON t.name = n.name COLLATE NOCASE
    UNION
    SELECT e.child, 'foreign_key' FROM edges e JOIN fam ON e.parent = fam.name
), member AS (
    -- A table reached several ways keeps the first reason: root, then foreign key, then option.
    SELECT name, CASE min(CASE source WHEN 'root' THEN 0 WHEN 'foreign_key' THEN 1 ELSE 2 END)
                     WHEN 0 THEN 'root' WHEN 1 THEN 'foreign_key' ELSE 'option' END AS source
    FROM fam
    GROUP BY name
)
SELECT json_object(
    'schema_exists', json('true'),
    'guard_schema', json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema
        WHERE type = 'view' AND name = 'oprun_guard_state') THEN 'true' ELSE 'false' END),
    'tables', json((SELECT coalesce(json_group_array(json_object(
                   'name', m.name,
                   'source', m.source,
                   'references', json((SELECT coalesce(json_group_array(parent), '[]') FROM (
                       SELECT DISTINCT e.parent FROM edges e JOIN member pm ON pm.name = e.parent
                       WHERE e.child = m.name AND e.parent <> m.name ORDER BY e.parent))))), '[]')
               FROM (SELECT * FROM member ORDER BY name) m)),
    'missing', json((SELECT coalesce(json_group_array(name), '[]') FROM (
        SELECT n.name FROM named n
        WHERE n.source = 'option'
          AND NOT EXISTS (SELECT 1 FROM tables t WHERE t.name = n.name COLLATE NOCASE)
        ORDER BY n.name)))
)

-- Everything `plan`, `migrate` and `status` need to know about the database, as one JSON
-- document. SQLite has one schema (main); read-only files are detected when the run lock is
-- taken.
SELECT json_object(
    'schema_exists', json('true'),
    'read_only', json('false'),
    'in_recovery', json('false'),
    'history_exists', json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema
        WHERE type = 'table' AND name = 'oprun_cutover_history') THEN 'true' ELSE 'false' END),
    'runs_exists', json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema
        WHERE type = 'table' AND name = 'operation_runs') THEN 'true' ELSE 'false' END),
    'registry_exists', json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema
        WHERE type = 'table' AND name = 'operation_types') THEN 'true' ELSE 'false' END),
    'ledger_exists', json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema
        WHERE type = 'table' AND name = 'oprun_cutover_ledger') THEN 'true' ELSE 'false' END),
    'row_estimate', -1,
    'columns', json((SELECT json_group_array(json_object(
                    'name', name,
                    'data_type', lower(type),
                    'not_null', json(CASE WHEN "notnull" THEN 'true' ELSE 'false' END)))
                FROM pragma_table_info('operation_runs'))),
    'indexes', json((SELECT json_group_array(json_object('name', name, 'valid', json('true')))
                FROM sqlite_schema
                WHERE type = 'index' AND tbl_name = 'operation_runs' AND sql IS NOT NULL)),
    'unvalidated', json('[]')
)

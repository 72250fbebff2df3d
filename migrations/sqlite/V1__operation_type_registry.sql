-- The canonical summary-count keys and the operation-type registry (SPEC §2).
-- Same logical change as migrations/postgres/V1; allowed_summary_keys is a JSON array here.

CREATE TABLE IF NOT EXISTS operation_summary_keys (
    key         TEXT PRIMARY KEY,
    description TEXT NOT NULL
);

INSERT INTO operation_summary_keys (key, description) VALUES
    ('total',     'items in the selection'),
    ('processed', 'items the run has looked at so far'),
    ('succeeded', 'items the operation succeeded on'),
    ('failed',    'items the operation failed on'),
    ('skipped',   'items deliberately left alone'),
    ('created',   'objects created'),
    ('updated',   'objects changed'),
    ('deleted',   'objects removed')
ON CONFLICT (key) DO NOTHING;

CREATE TABLE IF NOT EXISTS operation_types (
    type                      TEXT PRIMARY KEY CHECK (type <> ''),
    label                     TEXT NOT NULL CHECK (label <> ''),
    expected_duration_seconds INTEGER CHECK (expected_duration_seconds > 0),
    allowed_summary_keys      TEXT NOT NULL DEFAULT '[]'
        -- SQLite allows no subquery in a CHECK, so only the shape is enforced here; the
        -- PostgreSQL registry also checks each key against the canonical list.
        CHECK (json_valid(allowed_summary_keys) AND json_type(allowed_summary_keys) = 'array'),
    targets_directory         INTEGER NOT NULL DEFAULT 0 CHECK (targets_directory IN (0, 1)),
    registered_by             TEXT NOT NULL DEFAULT 'app'
        CHECK (registered_by IN ('seed', 'adopted', 'app'))
);

-- The documented starter set (README "Operation types").
INSERT INTO operation_types
    (type, label, expected_duration_seconds, allowed_summary_keys, targets_directory, registered_by)
VALUES
    ('policy_version.prune', 'Prune policy versions', 300,
        '["total","processed","succeeded","failed","skipped","deleted"]', 1, 'seed'),
    ('backup_set.delete', 'Delete backup sets', 600,
        '["total","processed","succeeded","failed","skipped","deleted"]', 1, 'seed'),
    ('policy.sync', 'Sync policies from the directory', 900,
        '["total","processed","succeeded","failed","skipped","created","updated","deleted"]', 1, 'seed'),
    ('inventory.refresh', 'Refresh the directory inventory', 1800,
        '["total","processed","failed","created","updated","deleted"]', 1, 'seed'),
    ('report.export', 'Export a report', 120,
        '["total","processed","succeeded","failed"]', 0, 'seed')
ON CONFLICT (type) DO NOTHING;

-- The canonical summary-count keys and the operation-type registry (SPEC §2).
-- Names are unqualified: oprun-cutover pins search_path to --schema for the whole session.

CREATE TABLE IF NOT EXISTS operation_summary_keys (
    key         text PRIMARY KEY,
    description text NOT NULL
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
    type                      text PRIMARY KEY CHECK (type <> ''),
    label                     text NOT NULL CHECK (label <> ''),
    expected_duration_seconds integer CHECK (expected_duration_seconds > 0),
    allowed_summary_keys      text[] NOT NULL DEFAULT '{}'
        CHECK (allowed_summary_keys <@ ARRAY['total', 'processed', 'succeeded', 'failed',
                                             'skipped', 'created', 'updated', 'deleted']::text[]),
    targets_directory         boolean NOT NULL DEFAULT false,
    registered_by             text NOT NULL DEFAULT 'app'
        CHECK (registered_by IN ('seed', 'adopted', 'app'))
);

-- The documented starter set (README "Operation types").
INSERT INTO operation_types
    (type, label, expected_duration_seconds, allowed_summary_keys, targets_directory, registered_by)
VALUES
    ('policy_version.prune', 'Prune policy versions', 300,
        ARRAY['total', 'processed', 'succeeded', 'failed', 'skipped', 'deleted'], true, 'seed'),
    ('backup_set.delete', 'Delete backup sets', 600,
        ARRAY['total', 'processed', 'succeeded', 'failed', 'skipped', 'deleted'], true, 'seed'),
    ('policy.sync', 'Sync policies from the directory', 900,
        ARRAY['total', 'processed', 'succeeded', 'failed', 'skipped', 'created', 'updated', 'deleted'], true, 'seed'),
    ('inventory.refresh', 'Refresh the directory inventory', 1800,
        ARRAY['total', 'processed', 'failed', 'created', 'updated', 'deleted'], true, 'seed'),
    ('report.export', 'Export a report', 120,
        ARRAY['total', 'processed', 'succeeded', 'failed'], false, 'seed')
ON CONFLICT (type) DO NOTHING;

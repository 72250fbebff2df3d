-- The canonical operation_runs table and the rules the database enforces (SPEC §2).
-- Same logical change as migrations/postgres/V2.
--
-- SQLite cannot add a CHECK constraint to an existing table, so every rule is a trigger: the
-- same rules then hold for a fresh table and an adopted one (including NOT NULL, which an adopted table may lack). Existing rows are checked by
-- `plan`/`migrate` before this runs. Each message starts with "operation_runs:" so the
-- application can tell a canonical-rule rejection from other errors.

CREATE TABLE IF NOT EXISTS operation_runs (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL,
    user_id           INTEGER,
    initiator_name    TEXT,
    type              TEXT NOT NULL,
    status            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    run_identity_hash TEXT NOT NULL,
    context           TEXT NOT NULL DEFAULT '{}',
    summary_counts    TEXT NOT NULL DEFAULT '{}',
    failure_summary   TEXT,
    started_at        TEXT,
    completed_at      TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Types already in use are registered first, so no writer is refused for a type it has
-- always used. Label = id; `plan` lists them.
INSERT INTO operation_types (type, label, allowed_summary_keys, registered_by)
SELECT DISTINCT r.type, r.type,
       '["total","processed","succeeded","failed","skipped","created","updated","deleted"]',
       'adopted'
FROM operation_runs r
WHERE r.type <> ''
ON CONFLICT (type) DO NOTHING;

CREATE TRIGGER IF NOT EXISTS oprun_canon_insert BEFORE INSERT ON operation_runs
BEGIN
    SELECT RAISE(ABORT, 'operation_runs: tenant_id, type, status, outcome, run_identity_hash, context and summary_counts are required')
    WHERE NEW.tenant_id IS NULL OR NEW.type IS NULL OR NEW.status IS NULL OR NEW.outcome IS NULL
       OR NEW.run_identity_hash IS NULL OR NEW.context IS NULL OR NEW.summary_counts IS NULL;
    SELECT RAISE(ABORT, 'operation_runs: status must be queued, running or completed')
    WHERE NOT (NEW.status IN ('queued', 'running', 'completed'));
    SELECT RAISE(ABORT, 'operation_runs: outcome must be pending, succeeded, partial or failed')
    WHERE NOT (NEW.outcome IN ('pending', 'succeeded', 'partial', 'failed'));
    SELECT RAISE(ABORT, 'operation_runs: outcome is pending exactly while the run is not completed')
    WHERE NOT ((NEW.status = 'completed') = (NEW.outcome <> 'pending'));
    SELECT RAISE(ABORT, 'operation_runs: a completed run needs completed_at')
    WHERE NOT (NEW.status <> 'completed' OR NEW.completed_at IS NOT NULL);
    SELECT RAISE(ABORT, 'operation_runs: run_identity_hash must be 64 lowercase hex characters')
    WHERE NOT (length(NEW.run_identity_hash) = 64 AND NOT NEW.run_identity_hash GLOB '*[^0-9a-f]*');
    SELECT RAISE(ABORT, 'operation_runs: context must be a JSON object')
    WHERE NOT (json_valid(NEW.context) AND json_type(NEW.context) = 'object');
    SELECT RAISE(ABORT, 'operation_runs: summary_counts must be an object of canonical keys with non-negative integer values')
    WHERE NOT (json_valid(NEW.summary_counts) AND json_type(NEW.summary_counts) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(NEW.summary_counts) THEN NEW.summary_counts ELSE '{}' END) WHERE key NOT IN ('total', 'processed', 'succeeded', 'failed', 'skipped', 'created', 'updated', 'deleted') OR type NOT IN ('integer', 'real') OR value < 0 OR value <> round(value)));
    SELECT RAISE(ABORT, 'operation_runs: failure_summary must be a JSON array or object')
    WHERE NOT (NEW.failure_summary IS NULL OR (json_valid(NEW.failure_summary) AND json_type(NEW.failure_summary) IN ('array', 'object')));
    SELECT RAISE(ABORT, 'operation_runs: type is not registered in operation_types')
    WHERE NOT (EXISTS (SELECT 1 FROM operation_types t WHERE t.type = NEW.type));
    SELECT RAISE(ABORT, 'operation_runs: a summary key is not allowed for this type (see operation_types.allowed_summary_keys)')
    WHERE NOT (NOT EXISTS (SELECT 1 FROM operation_types t, json_each(CASE WHEN json_valid(NEW.summary_counts) AND json_type(NEW.summary_counts) = 'object' THEN NEW.summary_counts ELSE '{}' END) k WHERE t.type = NEW.type AND NOT EXISTS (SELECT 1 FROM json_each(t.allowed_summary_keys) a WHERE a.value = k.key)));
    SELECT RAISE(ABORT, 'operation_runs: this type targets a directory and needs context.entra_tenant_id (a GUID) or context.directory_context_id')
    WHERE NOT (NOT EXISTS (SELECT 1 FROM operation_types t WHERE t.type = NEW.type AND t.targets_directory = 1) OR (json_valid(NEW.context) AND (coalesce(json_extract(NEW.context, '$.entra_tenant_id'), '') GLOB '[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]' OR coalesce(json_extract(NEW.context, '$.directory_context_id'), '') <> '')));
END;

CREATE TRIGGER IF NOT EXISTS oprun_canon_update BEFORE UPDATE ON operation_runs
BEGIN
    SELECT RAISE(ABORT, 'operation_runs: tenant_id, type, status, outcome, run_identity_hash, context and summary_counts are required')
    WHERE NEW.tenant_id IS NULL OR NEW.type IS NULL OR NEW.status IS NULL OR NEW.outcome IS NULL
       OR NEW.run_identity_hash IS NULL OR NEW.context IS NULL OR NEW.summary_counts IS NULL;
    SELECT RAISE(ABORT, 'operation_runs: status must be queued, running or completed')
    WHERE NOT (NEW.status IN ('queued', 'running', 'completed'));
    SELECT RAISE(ABORT, 'operation_runs: outcome must be pending, succeeded, partial or failed')
    WHERE NOT (NEW.outcome IN ('pending', 'succeeded', 'partial', 'failed'));
    SELECT RAISE(ABORT, 'operation_runs: outcome is pending exactly while the run is not completed')
    WHERE NOT ((NEW.status = 'completed') = (NEW.outcome <> 'pending'));
    SELECT RAISE(ABORT, 'operation_runs: a completed run needs completed_at')
    WHERE NOT (NEW.status <> 'completed' OR NEW.completed_at IS NOT NULL);
    SELECT RAISE(ABORT, 'operation_runs: run_identity_hash must be 64 lowercase hex characters')
    WHERE NOT (length(NEW.run_identity_hash) = 64 AND NOT NEW.run_identity_hash GLOB '*[^0-9a-f]*');
    SELECT RAISE(ABORT, 'operation_runs: context must be a JSON object')
    WHERE NOT (json_valid(NEW.context) AND json_type(NEW.context) = 'object');
    SELECT RAISE(ABORT, 'operation_runs: summary_counts must be an object of canonical keys with non-negative integer values')
    WHERE NOT (json_valid(NEW.summary_counts) AND json_type(NEW.summary_counts) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(NEW.summary_counts) THEN NEW.summary_counts ELSE '{}' END) WHERE key NOT IN ('total', 'processed', 'succeeded', 'failed', 'skipped', 'created', 'updated', 'deleted') OR type NOT IN ('integer', 'real') OR value < 0 OR value <> round(value)));
    SELECT RAISE(ABORT, 'operation_runs: failure_summary must be a JSON array or object')
    WHERE NOT (NEW.failure_summary IS NULL OR (json_valid(NEW.failure_summary) AND json_type(NEW.failure_summary) IN ('array', 'object')));
    SELECT RAISE(ABORT, 'operation_runs: type is not registered in operation_types')
    WHERE NOT (EXISTS (SELECT 1 FROM operation_types t WHERE t.type = NEW.type));
    SELECT RAISE(ABORT, 'operation_runs: a summary key is not allowed for this type (see operation_types.allowed_summary_keys)')
    WHERE NOT (NOT EXISTS (SELECT 1 FROM operation_types t, json_each(CASE WHEN json_valid(NEW.summary_counts) AND json_type(NEW.summary_counts) = 'object' THEN NEW.summary_counts ELSE '{}' END) k WHERE t.type = NEW.type AND NOT EXISTS (SELECT 1 FROM json_each(t.allowed_summary_keys) a WHERE a.value = k.key)));
    SELECT RAISE(ABORT, 'operation_runs: this type targets a directory and needs context.entra_tenant_id (a GUID) or context.directory_context_id')
    WHERE NOT (NOT EXISTS (SELECT 1 FROM operation_types t WHERE t.type = NEW.type AND t.targets_directory = 1) OR (json_valid(NEW.context) AND (coalesce(json_extract(NEW.context, '$.entra_tenant_id'), '') GLOB '[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]' OR coalesce(json_extract(NEW.context, '$.directory_context_id'), '') <> '')));
END;

-- The registry is what rows refer to: a type in use cannot be removed or renamed (PostgreSQL
-- has a foreign key for this).
CREATE TRIGGER IF NOT EXISTS oprun_registry_type_in_use_delete BEFORE DELETE ON operation_types
WHEN EXISTS (SELECT 1 FROM operation_runs WHERE type = OLD.type)
BEGIN
    SELECT RAISE(ABORT, 'operation_types: this type is used by operation_runs rows and cannot be removed');
END;

CREATE TRIGGER IF NOT EXISTS oprun_registry_type_in_use_update BEFORE UPDATE OF type ON operation_types
WHEN OLD.type <> NEW.type AND EXISTS (SELECT 1 FROM operation_runs WHERE type = OLD.type)
BEGIN
    SELECT RAISE(ABORT, 'operation_types: this type is used by operation_runs rows and cannot be renamed');
END;

-- Existing rows the canon would reject, per rule, with a few ids each: one scan.
-- oprun-cutover prepends two CTEs: `runs`, operation_runs with any column the table lacks
-- filled with the value migrate would add (so the check sees the rows as they will be), and
-- `registry(type, allowed_summary_keys, targets_directory)`, the registry as it will be (the
-- table if it exists, else the seed).
SELECT coalesce(json_agg(json_build_object('rule', rule, 'rows', n, 'sample_ids', ids) ORDER BY rule), '[]')::text
FROM (
    SELECT rule, count(*) AS n, (array_agg(id ORDER BY id))[1:5] AS ids
    FROM (
        SELECT r.id, v.rule
        FROM runs r
        CROSS JOIN LATERAL (VALUES
            (CASE WHEN r.tenant_id IS NULL OR r.type IS NULL OR r.status IS NULL OR r.outcome IS NULL
                    OR r.run_identity_hash IS NULL OR r.context IS NULL OR r.summary_counts IS NULL
                  THEN 'required_not_null' END),
            (CASE WHEN r.type = '' THEN 'type_empty' END),
            (CASE WHEN r.status IS NULL OR r.status NOT IN ('queued', 'running', 'completed')
                  THEN 'status_values' END),
            (CASE WHEN r.outcome IS NULL OR r.outcome NOT IN ('pending', 'succeeded', 'partial', 'failed')
                  THEN 'outcome_values' END),
            (CASE WHEN (r.status = 'completed') <> (r.outcome <> 'pending')
                  THEN 'outcome_pending_iff_active' END),
            (CASE WHEN r.status = 'completed' AND r.completed_at IS NULL
                  THEN 'completed_has_completed_at' END),
            (CASE WHEN r.run_identity_hash IS NULL OR length(r.run_identity_hash) <> 64
                    OR r.run_identity_hash ~ '[^0-9a-f]'
                  THEN 'identity_hash_format' END),
            (CASE WHEN jsonb_typeof(r.context::jsonb) IS DISTINCT FROM 'object'
                  THEN 'context_is_object' END),
            (CASE WHEN jsonb_typeof(r.summary_counts::jsonb) IS DISTINCT FROM 'object'
                  THEN 'summary_counts_canonical'
                  WHEN r.summary_counts::jsonb - ARRAY['total', 'processed', 'succeeded', 'failed',
                                                       'skipped', 'created', 'updated', 'deleted'] <> '{}'::jsonb
                    OR jsonb_path_exists(r.summary_counts::jsonb,
                        'strict $.* ? (@.type() != "number" || @ < 0 || @ != @.floor())')
                  THEN 'summary_counts_canonical' END),
            (CASE WHEN jsonb_typeof(r.summary_counts::jsonb) = 'object' AND EXISTS (
                      SELECT 1 FROM registry g, jsonb_object_keys(r.summary_counts::jsonb) k
                      -- keys outside the canonical list are summary_counts_canonical's
                      WHERE g.type = r.type AND k <> ALL (g.allowed_summary_keys)
                        AND k IN ('total', 'processed', 'succeeded', 'failed', 'skipped',
                                  'created', 'updated', 'deleted'))
                  THEN 'summary_keys_allowed_for_type' END),
            (CASE WHEN EXISTS (SELECT 1 FROM registry g WHERE g.type = r.type AND g.targets_directory)
                    AND jsonb_typeof(r.context::jsonb) = 'object'
                    AND NOT (coalesce(r.context::jsonb->>'entra_tenant_id', '')
                                 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             OR coalesce(r.context::jsonb->>'directory_context_id', '') <> '')
                  THEN 'directory_scope' END),
            (CASE WHEN r.failure_summary IS NOT NULL
                    AND jsonb_typeof(r.failure_summary::jsonb) NOT IN ('array', 'object')
                  THEN 'failure_summary_shape' END)
        ) AS v(rule)
        WHERE v.rule IS NOT NULL
    ) x
    GROUP BY rule
) agg

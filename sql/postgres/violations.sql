-- Existing rows the canon would reject, per rule, with a few ids each: one scan.
-- `runs` is a CTE oprun-cutover prepends: operation_runs with any column the table lacks
-- filled with the value migrate would add, so the check sees the rows as they will be.
SELECT coalesce(json_agg(json_build_object('rule', rule, 'rows', n, 'sample_ids', ids) ORDER BY rule), '[]')::text
FROM (
    SELECT rule, count(*) AS n, (array_agg(id ORDER BY id))[1:5] AS ids
    FROM (
        SELECT r.id, v.rule
        FROM runs r
        CROSS JOIN LATERAL (VALUES
            (CASE WHEN r.status IS NULL OR r.status NOT IN ('queued', 'running', 'completed')
                  THEN 'status_values' END),
            (CASE WHEN r.outcome IS NULL OR r.outcome NOT IN ('pending', 'succeeded', 'partial', 'failed')
                  THEN 'outcome_values' END),
            (CASE WHEN (r.status = 'completed') <> (r.outcome <> 'pending')
                  THEN 'outcome_pending_iff_active' END),
            (CASE WHEN r.status = 'completed' AND r.completed_at IS NULL
                  THEN 'completed_has_completed_at' END),
            (CASE WHEN r.run_identity_hash IS NULL OR r.run_identity_hash !~ '^[0-9a-f]{64}$'
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
            (CASE WHEN r.failure_summary IS NOT NULL
                    AND jsonb_typeof(r.failure_summary::jsonb) NOT IN ('array', 'object')
                  THEN 'failure_summary_shape' END)
        ) AS v(rule)
        WHERE v.rule IS NOT NULL
    ) x
    GROUP BY rule
) agg

-- Existing rows the canon would reject, per rule, with a few ids each.
-- `runs` and `registry` are CTEs oprun-cutover prepends (see postgres/violations.sql).
, bad(id, rule) AS (
    SELECT id, 'required_not_null' FROM runs
    WHERE tenant_id IS NULL OR type IS NULL OR status IS NULL OR outcome IS NULL
       OR run_identity_hash IS NULL OR context IS NULL OR summary_counts IS NULL
    UNION ALL SELECT id, 'type_empty' FROM runs WHERE type = ''
    UNION ALL SELECT id, 'status_values' FROM runs
    WHERE status IS NULL OR status NOT IN ('queued', 'running', 'completed')
    UNION ALL SELECT id, 'outcome_values' FROM runs
    WHERE outcome IS NULL OR outcome NOT IN ('pending', 'succeeded', 'partial', 'failed')
    UNION ALL SELECT id, 'outcome_pending_iff_active' FROM runs
    WHERE (status = 'completed') <> (outcome <> 'pending')
    UNION ALL SELECT id, 'completed_has_completed_at' FROM runs
    WHERE status = 'completed' AND completed_at IS NULL
    UNION ALL SELECT id, 'identity_hash_format' FROM runs
    WHERE run_identity_hash IS NULL OR length(run_identity_hash) <> 64
       OR run_identity_hash GLOB '*[^0-9a-f]*'
    UNION ALL SELECT id, 'context_is_object' FROM runs
    WHERE NOT json_valid(context) OR json_type(context) <> 'object'
    UNION ALL SELECT id, 'summary_counts_canonical' FROM runs
    WHERE NOT json_valid(summary_counts) OR json_type(summary_counts) <> 'object'
       OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(summary_counts) THEN summary_counts ELSE '{}' END)
                  WHERE key NOT IN ('total', 'processed', 'succeeded', 'failed', 'skipped',
                                    'created', 'updated', 'deleted')
                     OR type NOT IN ('integer', 'real') OR value < 0 OR value <> round(value))
    UNION ALL SELECT r.id, 'summary_keys_allowed_for_type' FROM runs r JOIN registry g ON g.type = r.type
    WHERE json_valid(r.summary_counts) AND json_type(r.summary_counts) = 'object'
      AND EXISTS (SELECT 1 FROM json_each(r.summary_counts) k
                  WHERE k.key IN ('total', 'processed', 'succeeded', 'failed', 'skipped',
                                  'created', 'updated', 'deleted')
                    AND NOT EXISTS (SELECT 1 FROM json_each(g.allowed_summary_keys) a WHERE a.value = k.key))
    UNION ALL SELECT r.id, 'directory_scope' FROM runs r JOIN registry g ON g.type = r.type
    WHERE g.targets_directory = 1 AND json_valid(r.context) AND json_type(r.context) = 'object'
      AND NOT (coalesce(json_extract(r.context, '$.entra_tenant_id'), '') GLOB
                   '[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]'
               OR coalesce(json_extract(r.context, '$.directory_context_id'), '') <> '')
    UNION ALL SELECT id, 'failure_summary_shape' FROM runs
    WHERE failure_summary IS NOT NULL
      AND (NOT json_valid(failure_summary) OR json_type(failure_summary) NOT IN ('array', 'object'))
)
SELECT coalesce(json_group_array(json_object('rule', rule, 'rows', n, 'sample_ids', json(ids))), '[]')
FROM (
    SELECT rule, count(*) AS n,
           (SELECT json_group_array(id) FROM (SELECT id FROM bad b2 WHERE b2.rule = b.rule ORDER BY id LIMIT 5)) AS ids
    FROM bad b
    GROUP BY rule
    ORDER BY rule
)

-- Existing rows the canon would reject, per rule, with a few ids each: one scan, each row's
-- JSON parsed once, the registry joined once, every rule a boolean aggregated with FILTER.
-- oprun-cutover prepends two CTEs: `runs`, operation_runs with any column the table lacks
-- filled with the value migrate would add (so the check sees the rows as they will be), and
-- `registry(type, allowed_summary_keys, targets_directory)`, the registry as it will be (the
-- table if it exists, else the seed). The rules mirror the constraints of V2.
, flags AS (
    SELECT r.id,
           r.tenant_id IS NULL OR r.type IS NULL OR r.status IS NULL OR r.outcome IS NULL
               OR r.run_identity_hash IS NULL OR j.ctx IS NULL OR j.sc IS NULL AS required_not_null,
           coalesce(r.type = '', false) AS type_empty,
           coalesce(r.status NOT IN ('queued', 'running', 'completed'), false) AS status_values,
           coalesce(r.outcome NOT IN ('pending', 'succeeded', 'partial', 'failed'), false) AS outcome_values,
           coalesce((r.status = 'completed') <> (r.outcome <> 'pending'), false) AS outcome_pending_iff_active,
           coalesce(r.status = 'completed' AND r.completed_at IS NULL, false) AS completed_has_completed_at,
           coalesce(length(r.run_identity_hash) <> 64 OR r.run_identity_hash ~ '[^0-9a-f]', false)
               AS identity_hash_format,
           coalesce(jsonb_typeof(j.ctx) <> 'object', false) AS context_is_object,
           CASE WHEN jsonb_typeof(j.sc) IS DISTINCT FROM 'object' THEN j.sc IS NOT NULL
                ELSE j.sc - ARRAY['total', 'processed', 'succeeded', 'failed', 'skipped',
                                  'created', 'updated', 'deleted'] <> '{}'::jsonb
                     OR jsonb_path_exists(j.sc,
                            'strict $.* ? (@.type() != "number" || @ < 0 || @ != @.floor())')
           END AS summary_counts_canonical,
           -- keys outside the canonical list are summary_counts_canonical's, not this rule's
           coalesce(jsonb_typeof(j.sc) = 'object'
                    AND (j.sc - g.allowed_summary_keys) ?| ARRAY['total', 'processed', 'succeeded',
                        'failed', 'skipped', 'created', 'updated', 'deleted'], false)
               AS summary_keys_allowed_for_type,
           coalesce(g.targets_directory AND jsonb_typeof(j.ctx) = 'object'
                    AND NOT (coalesce(j.ctx->>'entra_tenant_id', '')
                                 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             OR coalesce(j.ctx->>'directory_context_id', '') <> ''), false)
               AS directory_scope,
           coalesce(jsonb_typeof(j.fs) NOT IN ('array', 'object'), false) AS failure_summary_shape
    FROM runs r
    LEFT JOIN registry g ON g.type = r.type
    -- OFFSET 0 keeps the subquery from being flattened, so each cast runs once per row.
    CROSS JOIN LATERAL (SELECT r.context::jsonb AS ctx, r.summary_counts::jsonb AS sc,
                               r.failure_summary::jsonb AS fs OFFSET 0) j
), agg AS (
    SELECT
        count(*) FILTER (WHERE required_not_null) AS n1,
        (array_agg(id) FILTER (WHERE required_not_null))[1:5] AS i1,
        count(*) FILTER (WHERE type_empty) AS n2,
        (array_agg(id) FILTER (WHERE type_empty))[1:5] AS i2,
        count(*) FILTER (WHERE status_values) AS n3,
        (array_agg(id) FILTER (WHERE status_values))[1:5] AS i3,
        count(*) FILTER (WHERE outcome_values) AS n4,
        (array_agg(id) FILTER (WHERE outcome_values))[1:5] AS i4,
        count(*) FILTER (WHERE outcome_pending_iff_active) AS n5,
        (array_agg(id) FILTER (WHERE outcome_pending_iff_active))[1:5] AS i5,
        count(*) FILTER (WHERE completed_has_completed_at) AS n6,
        (array_agg(id) FILTER (WHERE completed_has_completed_at))[1:5] AS i6,
        count(*) FILTER (WHERE identity_hash_format) AS n7,
        (array_agg(id) FILTER (WHERE identity_hash_format))[1:5] AS i7,
        count(*) FILTER (WHERE context_is_object) AS n8,
        (array_agg(id) FILTER (WHERE context_is_object))[1:5] AS i8,
        count(*) FILTER (WHERE summary_counts_canonical) AS n9,
        (array_agg(id) FILTER (WHERE summary_counts_canonical))[1:5] AS i9,
        count(*) FILTER (WHERE summary_keys_allowed_for_type) AS n10,
        (array_agg(id) FILTER (WHERE summary_keys_allowed_for_type))[1:5] AS i10,
        count(*) FILTER (WHERE directory_scope) AS n11,
        (array_agg(id) FILTER (WHERE directory_scope))[1:5] AS i11,
        count(*) FILTER (WHERE failure_summary_shape) AS n12,
        (array_agg(id) FILTER (WHERE failure_summary_shape))[1:5] AS i12
    FROM flags
)
-- Sample ids are the first met, sorted here: an ordered aggregate over every row would cost
-- more than all the rules together.
SELECT coalesce(json_agg(json_build_object(
           'rule', v.rule, 'rows', v.n,
           'sample_ids', (SELECT array_agg(x ORDER BY x) FROM unnest(v.ids) AS x))
         ORDER BY v.rule), '[]')::text
FROM agg
CROSS JOIN LATERAL (VALUES
    ('required_not_null', n1, i1), ('type_empty', n2, i2), ('status_values', n3, i3),
    ('outcome_values', n4, i4), ('outcome_pending_iff_active', n5, i5),
    ('completed_has_completed_at', n6, i6), ('identity_hash_format', n7, i7),
    ('context_is_object', n8, i8), ('summary_counts_canonical', n9, i9),
    ('summary_keys_allowed_for_type', n10, i10), ('directory_scope', n11, i11),
    ('failure_summary_shape', n12, i12)
) AS v(rule, n, ids)
WHERE v.n > 0

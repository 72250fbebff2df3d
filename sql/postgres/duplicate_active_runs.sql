-- Active runs (queued or running) that share (tenant_id, run_identity_hash): the rows that
-- would make the unique active-run index fail mid-build. Totals plus the first 20 groups.
WITH d AS (
    SELECT tenant_id, rtrim(run_identity_hash::text) AS run_identity_hash, count(*) AS n,
           (array_agg(id ORDER BY id))[1:10] AS ids
    FROM operation_runs
    WHERE status IN ('queued', 'running')
    GROUP BY 1, 2
    HAVING count(*) > 1
)
SELECT json_build_object(
    'groups', (SELECT count(*) FROM d),
    'rows', (SELECT coalesce(sum(n), 0) FROM d),
    'sample', (SELECT coalesce(json_agg(x), '[]') FROM (
        SELECT tenant_id, run_identity_hash, n AS count, ids
        FROM d ORDER BY tenant_id, run_identity_hash LIMIT 20) x)
)::text

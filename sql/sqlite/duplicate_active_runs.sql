-- Active runs (queued or running) that share (tenant_id, run_identity_hash). See postgres/.
WITH d AS (
    SELECT tenant_id, run_identity_hash, count(*) AS n,
           (SELECT json_group_array(id) FROM (
                SELECT id FROM operation_runs o
                WHERE o.tenant_id = g.tenant_id AND o.run_identity_hash = g.run_identity_hash
                  AND o.status IN ('queued', 'running')
                ORDER BY id LIMIT 10)) AS ids
    FROM operation_runs g
    WHERE status IN ('queued', 'running')
    GROUP BY 1, 2
    HAVING count(*) > 1
)
SELECT json_object(
    'groups', (SELECT count(*) FROM d),
    'rows', (SELECT coalesce(sum(n), 0) FROM d),
    'sample', json((SELECT coalesce(json_group_array(json_object(
                   'tenant_id', tenant_id, 'run_identity_hash', run_identity_hash,
                   'count', n, 'ids', json(ids))), '[]')
               FROM (SELECT * FROM d ORDER BY tenant_id, run_identity_hash LIMIT 20)))
)

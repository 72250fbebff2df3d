-- The guard as `guard status` reports it. See postgres/guard_state.sql.
SELECT json_object(
    'tables', json((SELECT coalesce(json_group_array(json_object(
                   'table', s.table_name,
                   'source', s.source,
                   'intended_mode', s.intended_mode,
                   'table_exists', json(CASE WHEN s.table_exists THEN 'true' ELSE 'false' END),
                   'mode', s.mode,
                   'trigger_enabled', s.trigger_enabled,
                   'blocked_count', s.blocked_count,
                   'last_blocked_at', s.last_blocked_at,
                   'observed_writes', s.observed_writes,
                   'observed_rows', s.observed_rows,
                   'last_observed_at', s.last_observed_at,
                   'revoked', json(s.revoked),
                   'holds', json(CASE WHEN s.holds THEN 'true' ELSE 'false' END),
                   'problem', s.problem)), '[]')
               FROM (SELECT * FROM oprun_guard_state ORDER BY table_name) s)),
    'writers', json((SELECT coalesce(json_group_array(json_object(
                   'table', table_name, 'operation', operation, 'role', role_name,
                   'login_role', login_role, 'application_name', application_name,
                   'writes', writes, 'rows', rows, 'first_at', first_at, 'last_at', last_at)), '[]')
               FROM (SELECT table_name, operation, role_name, login_role, application_name,
                            count(*) AS writes, sum(row_count) AS rows, min(at) AS first_at,
                            max(at) AS last_at
                     FROM oprun_guard_observed
                     GROUP BY 1, 2, 3, 4, 5
                     ORDER BY max(at) DESC
                     LIMIT 50)))
)

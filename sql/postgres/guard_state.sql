-- The guard as `guard status` reports it: every row of oprun_guard_state (V4), and who wrote to
-- the legacy tables while the guard was observing, most recent first. Read-only.
SELECT json_build_object(
    'tables', coalesce((
        SELECT json_agg(json_build_object(
                   'table', s.table_name,
                   'source', s.source,
                   'intended_mode', s.intended_mode,
                   'table_exists', s.table_exists,
                   'mode', s.mode,
                   'trigger_enabled', s.trigger_enabled,
                   'blocked_count', s.blocked_count,
                   'last_blocked_at', s.last_blocked_at,
                   'observed_writes', s.observed_writes,
                   'observed_rows', s.observed_rows,
                   'last_observed_at', s.last_observed_at,
                   'revoked', s.revoked,
                   'holds', s.holds,
                   'problem', s.problem) ORDER BY s.table_name)
        FROM oprun_guard_state s), '[]'),
    'writers', coalesce((
        SELECT json_agg(w ORDER BY w.last_at DESC)
        FROM (SELECT table_name AS table, operation, role_name AS role, login_role, application_name,
                     count(*) AS writes, sum(row_count) AS rows, min(at) AS first_at, max(at) AS last_at
              FROM oprun_guard_observed
              GROUP BY 1, 2, 3, 4, 5
              ORDER BY max(at) DESC
              LIMIT 50) w), '[]')
)::text

-- Sessions holding a lock on the named relations (a JSON array of names in the pinned schema),
-- or holding back a concurrent index build with an old snapshot. Never selects row data:
-- only pid, application_name, state, transaction age and a truncated query text.
SELECT coalesce(json_agg(b ORDER BY b.xact_age_seconds DESC), '[]')::text
FROM (
    SELECT DISTINCT ON (a.pid)
           a.pid,
           coalesce(a.application_name, '') AS application_name,
           coalesce(a.state, 'unknown') AS state,
           extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start))::float8 AS xact_age_seconds,
           left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), 80) AS query
    FROM pg_stat_activity a
    WHERE a.pid <> pg_backend_pid()
      AND a.datname = current_database()
      AND (
          a.pid IN (
              SELECT l.pid FROM pg_locks l
              WHERE l.granted
                AND l.relation IN (
                    SELECT to_regclass(quote_ident(current_schema()) || '.' || quote_ident(n))
                    FROM json_array_elements_text($1::json) AS n))
          OR (a.backend_xid IS NOT NULL OR a.backend_xmin IS NOT NULL)
             AND a.xact_start < now() - interval '1 second'
             AND a.backend_type = 'client backend'
      )
) b

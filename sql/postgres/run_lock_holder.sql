-- Who holds the run lock (a bigint advisory key, split by PostgreSQL into classid/objid).
SELECT coalesce((
    SELECT json_build_object(
               'pid', a.pid,
               'application_name', coalesce(a.application_name, ''),
               'since_seconds', extract(epoch FROM now() - a.backend_start)::float8)
    FROM pg_locks l
    JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 32) | l.objid::bigint) = $1
    LIMIT 1), 'null'::json)::text

-- For `guard install --app-role`: which of the roles in $3 (a JSON array) do not exist, and the
-- write privileges each holds directly on the tables in $2 (a JSON array) of schema $1: what
-- would be revoked, and later restored exactly. A table never granted on (NULL acl) has its
-- owner's default privileges. Grants of one privilege by several grantors count once.
SELECT json_build_object(
    'unknown_roles', coalesce((
        SELECT json_agg(r ORDER BY r)
        FROM json_array_elements_text($3::json) AS r
        WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)), '[]'),
    'privileges', coalesce((
        SELECT json_agg(p ORDER BY p.table, p.role, p.privilege)
        FROM (SELECT c.relname AS table, ro.rolname AS role, a.privilege_type AS privilege,
                     bool_or(a.is_grantable) AS grantable
              FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1
              CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
              JOIN pg_roles ro ON ro.oid = a.grantee
              WHERE c.relname IN (SELECT json_array_elements_text($2::json))
                AND ro.rolname IN (SELECT json_array_elements_text($3::json))
                AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
              GROUP BY 1, 2, 3) p), '[]')
)::text

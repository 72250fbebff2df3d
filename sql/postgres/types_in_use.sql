-- Operation types used by existing rows that are not in $1 (a JSON array of known types).
SELECT coalesce(json_agg(t ORDER BY t), '[]')::text
FROM (SELECT DISTINCT type::text AS t FROM operation_runs) u
WHERE t NOT IN (SELECT json_array_elements_text($1::json))

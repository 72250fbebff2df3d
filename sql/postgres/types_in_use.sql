-- Operation types used by existing rows that are not in $1 (a JSON array of known types).
-- An empty type is not registrable: the `type_empty` rule reports it.
SELECT coalesce(json_agg(t ORDER BY t), '[]')::text
FROM (SELECT DISTINCT type::text AS t FROM operation_runs) u
WHERE t <> '' AND t NOT IN (SELECT json_array_elements_text($1::json))

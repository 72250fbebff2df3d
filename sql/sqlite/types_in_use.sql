-- Operation types used by existing rows that are not in ?1 (a JSON array of known types).
SELECT coalesce(json_group_array(t), '[]')
FROM (SELECT DISTINCT type AS t FROM operation_runs
      WHERE type <> '' AND type NOT IN (SELECT value FROM json_each(?1)) ORDER BY t)

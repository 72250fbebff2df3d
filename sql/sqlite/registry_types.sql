SELECT coalesce(json_group_array(type), '[]') FROM (SELECT type FROM operation_types ORDER BY type)

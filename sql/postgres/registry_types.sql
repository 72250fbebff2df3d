SELECT coalesce(json_agg(type ORDER BY type), '[]')::text FROM operation_types

SELECT coalesce(json_agg(h ORDER BY h.version), '[]')::text
FROM (SELECT version, name, applied_on, checksum FROM oprun_cutover_history) h

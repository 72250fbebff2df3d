SELECT coalesce(json_group_array(json_object('version', version, 'name', name,
                                             'applied_on', applied_on, 'checksum', checksum)), '[]')
FROM (SELECT * FROM oprun_cutover_history ORDER BY version)

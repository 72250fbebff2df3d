SELECT row_to_json(s)::text FROM (SELECT phase, since::text AS since FROM oprun_cutover_state) s

SELECT json_object('phase', phase, 'since', since) FROM oprun_cutover_state

-- The tool's ledger (every change it makes, with evidence) and the state monitoring reads
-- with plain SQL: `SELECT * FROM oprun_cutover_state;`.

CREATE TABLE IF NOT EXISTS oprun_cutover_ledger (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,
    tool_version text NOT NULL,
    command      text NOT NULL,
    step         text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'failed')),
    phase        text CHECK (phase IN ('not_started', 'schema_ready', 'guarded_observe',
                                       'guarded_enforce', 'verified', 'legacy_dropped')),
    evidence     jsonb NOT NULL DEFAULT '{}'
);

CREATE OR REPLACE VIEW oprun_cutover_state AS
SELECT coalesce(
           (SELECT phase FROM oprun_cutover_ledger
            WHERE phase IS NOT NULL AND outcome = 'ok' ORDER BY id DESC LIMIT 1),
           'not_started') AS phase,
       (SELECT at FROM oprun_cutover_ledger
        WHERE phase IS NOT NULL AND outcome = 'ok' ORDER BY id DESC LIMIT 1) AS since,
       (SELECT max(at) FROM oprun_cutover_ledger) AS last_action_at,
       (SELECT count(*) FROM oprun_cutover_ledger WHERE outcome = 'failed') AS failed_actions;

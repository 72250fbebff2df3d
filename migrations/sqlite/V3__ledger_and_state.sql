-- The tool's ledger (every change it makes, with evidence) and the state monitoring reads
-- with plain SQL: `SELECT * FROM oprun_cutover_state;`. Same logical change as postgres/V3.

CREATE TABLE IF NOT EXISTS oprun_cutover_ledger (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor        TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    command      TEXT NOT NULL,
    step         TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    phase        TEXT CHECK (phase IN ('not_started', 'schema_ready', 'guarded_observe',
                                       'guarded_enforce', 'verified', 'legacy_dropped')),
    evidence     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(evidence))
);

CREATE VIEW IF NOT EXISTS oprun_cutover_state AS
SELECT coalesce(
           (SELECT phase FROM oprun_cutover_ledger
            WHERE phase IS NOT NULL AND outcome = 'ok' ORDER BY id DESC LIMIT 1),
           'not_started') AS phase,
       (SELECT at FROM oprun_cutover_ledger
        WHERE phase IS NOT NULL AND outcome = 'ok' ORDER BY id DESC LIMIT 1) AS since,
       (SELECT max(at) FROM oprun_cutover_ledger) AS last_action_at,
       (SELECT count(*) FROM oprun_cutover_ledger WHERE outcome = 'failed') AS failed_actions;

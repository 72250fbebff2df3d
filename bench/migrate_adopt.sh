#!/usr/bin/env bash
# Scenario 3: `oprun-cutover migrate` adopting a populated, older-shape `operation_runs` while an
# application writer (pgbench, one client, RATE tx/s) inserts rows, compared with
#   - by hand: the same schema steps through psql (the tool's column changes and migrations, which
#     add the constraints NOT VALID), then ALTER TABLE ... VALIDATE CONSTRAINT for each constraint
#     and the CREATE INDEX CONCURRENTLY statements, timed;
#   - the anti-baseline: the same two indexes built with plain CREATE INDEX in one transaction.
# Each runs on its own fresh copy of the same populated database, with the same writer.
#
# SPEC §7 targets: the writer's worst latency during migrate < 0.5 s; migrate total within 1.2x
# of the same concurrent index builds and validations run by hand.
#
#   bench/migrate_adopt.sh [ROWS]      ROWS default 1000000 (1000 .. 20000000)
#   env: RATE=200 (writer tx/s)  PRE=3 POST=2 (seconds of writer before/after)  MIGRATE_TIMEOUT=900
#
# The writer's latency is pgbench's per-transaction log (-l). With -R, pgbench measures latency
# from each transaction's *scheduled* start, so a stall also counts the queue that builds up
# behind it: what an application submitting work at RATE/s would see. "service" is the same
# without the schedule lag. A transaction counts for a window when its life overlaps it.
source "$(dirname "$0")/lib.sh"

ROWS=${1:-${ROWS:-1000000}}
RATE=${RATE:-200}
PRE=${PRE:-3}
POST=${POST:-2}
MIGRATE_TIMEOUT=${MIGRATE_TIMEOUT:-900}
[[ $ROWS =~ ^[0-9]+$ ]] && (( ROWS >= 1000 && ROWS <= 20000000 )) || die "ROWS must be 1000..20000000"
(( RATE >= 1 && RATE <= 2000 )) || die "RATE must be 1..2000"
need_binary; need_psql; need_pgbench; need_python; need_jq
check_server

TPL=oprun_bench_adopt_tpl
RUN=oprun_bench_adopt_run
OUT=$BENCH_TMP/results.jsonl
: >"$OUT"

q() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -d "$(url "$1")" -c "$2"; }

machine_header
echo "rows: $ROWS  writer: pgbench -n -c 1 -R $RATE (one INSERT per transaction)"
echo

# --- 1. The populated older-shape table (the template every phase copies) ---------------------
create_db "$TPL"
cat >"$BENCH_TMP/shape.sql" <<'SQL'
CREATE TABLE operation_runs (
    id                bigserial PRIMARY KEY,
    tenant_id         bigint NOT NULL,
    user_id           bigint,
    type              varchar(100) NOT NULL,
    status            varchar(20) NOT NULL,
    outcome           varchar(20) NOT NULL,
    run_identity_hash varchar(64) NOT NULL,
    context           json NOT NULL DEFAULT '{}',
    summary_counts    json NOT NULL DEFAULT '{}',
    started_at        timestamptz,
    completed_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
SQL
cat >"$BENCH_TMP/populate.sql" <<'SQL'
-- 98% completed/succeeded, 1% running and 1% queued (pending), every hash distinct, so no
-- tenant has two active runs with the same hash; two seeded types, both valid for their rules.
INSERT INTO operation_runs (tenant_id, user_id, type, status, outcome, run_identity_hash,
                            context, summary_counts, started_at, completed_at, created_at)
SELECT 1 + i % 1000,
       CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5000 END,
       CASE WHEN i % 2 = 0 THEN 'report.export' ELSE 'backup_set.delete' END,
       CASE i % 100 WHEN 0 THEN 'running' WHEN 1 THEN 'queued' ELSE 'completed' END,
       CASE WHEN i % 100 IN (0, 1) THEN 'pending' ELSE 'succeeded' END,
       md5(i::text) || md5('h' || i::text),
       '{"directory_context_id": "d1"}',
       '{"total": 3}',
       t,
       CASE WHEN i % 100 IN (0, 1) THEN NULL ELSE t + interval '1 minute' END,
       t
FROM (SELECT i, timestamptz '2024-01-01' + i * interval '1 second' AS t
      FROM generate_series(1, :rows) AS i) g;
SQL
cat >"$BENCH_TMP/writer.sql" <<'SQL'
\set tenant random(1, 1000)
INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash, context, summary_counts, started_at, completed_at) VALUES (:tenant, 'report.export', 'completed', 'succeeded', md5(random()::text) || md5(random()::text), '{"directory_context_id": "d1"}', '{"total": 1}', now(), now());
SQL
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url $TPL)" -f "$BENCH_TMP/shape.sql"
# The tool's plan for this shape (read while the table is still empty, so it costs nothing):
# the column changes, the migrations and the index statements the by-hand baseline replays.
"$BIN" --database-url "$(url $TPL)" --format json plan >"$BENCH_TMP/plan.json"
jq -e '.data.adopting == true' "$BENCH_TMP/plan.json" >/dev/null || die "plan does not adopt the table"
t=$(now)
"$PSQL" -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -d "$(url $TPL)" -f "$BENCH_TMP/populate.sql"
q $TPL 'VACUUM (ANALYZE) operation_runs' >/dev/null
echo "populated $ROWS rows in $(python3 -c "print(round($(now) - $t, 1))") s ($(q $TPL "SELECT pg_size_pretty(pg_total_relation_size('operation_runs'))"))"
MAXID=$(q $TPL 'SELECT max(id) FROM operation_runs')
# Every pre-existing row, as text, hashed: compared after each phase.
SUMSQL="SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws('|', id, tenant_id, user_id, type, status, outcome, run_identity_hash, context::text, summary_counts::text, started_at, completed_at, created_at), 0)), 0) FROM operation_runs WHERE id <= $MAXID"
SUM_BEFORE=$(q $TPL "$SUMSQL")

# By-hand scripts. Setup: the tool's column changes and its migrations, each migration in its
# own transaction (as the tool applies them); the constraints are then present NOT VALID.
{
    jq -r '.data.columns[] | select(.sql != null) | .sql + ";"' "$BENCH_TMP/plan.json"
    jq -r '.data.pending[] | "BEGIN;", .sql, ";", "COMMIT;"' "$BENCH_TMP/plan.json"
} >"$BENCH_TMP/byhand_setup.sql"
jq -r '.data.indexes[] | .sql + ";"' "$BENCH_TMP/plan.json" >"$BENCH_TMP/indexes_concurrently.sql"
# (run with psql -1: one transaction)
sed -E 's/CREATE (UNIQUE )?INDEX CONCURRENTLY/CREATE \1INDEX/' "$BENCH_TMP/indexes_concurrently.sql" \
    >"$BENCH_TMP/indexes_plain.sql"

# --- 2. One phase: fresh copy, writer, the action, writer latency, rows intact ------------------
SAMPLER_SQL=$BENCH_TMP/sampler.sql
# Every 0.2 s: what the acting session runs, and whether the writer (pgbench) waits on a lock.
sampler_for() { # the application_name to watch
    printf '%s\n' "SELECT extract(epoch FROM clock_timestamp())::text || '|' || coalesce(a.state, '') || '|' || coalesce(a.wait_event_type, '') || '|' || coalesce(w.wait_event_type || ':' || w.wait_event, '') || '|' || coalesce(regexp_replace(left(a.query, 200), '\s+', ' ', 'g'), '') FROM (VALUES (1)) v LEFT JOIN LATERAL (SELECT * FROM pg_stat_activity WHERE datname = '$RUN' AND application_name = '$1' AND pid <> pg_backend_pid() ORDER BY (state = 'active') DESC, backend_start DESC LIMIT 1) a ON true LEFT JOIN LATERAL (SELECT * FROM pg_stat_activity WHERE datname = '$RUN' AND application_name = 'pgbench' LIMIT 1) w ON true \\watch 0.2" >"$SAMPLER_SQL"
}

action_tool() {
    timeout "$MIGRATE_TIMEOUT" "$BIN" --database-url "$(url $RUN)" --no-progress --format json \
        migrate >"$BENCH_TMP/migrate.json" 2>"$BENCH_TMP/migrate.err" || {
        cat "$BENCH_TMP/migrate.err" >&2; jq . "$BENCH_TMP/migrate.json" >&2 || true
        die "oprun-cutover migrate failed"
    }
}
action_byhand() {
    local a b
    PGAPPNAME=oprun_bench_byhand "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url $RUN)" \
        -f "$BENCH_TMP/byhand_setup.sql" >/dev/null 2>"$BENCH_TMP/byhand_setup.err" \
        || { cat "$BENCH_TMP/byhand_setup.err" >&2; die "by-hand setup failed"; }
    a=$(now)
    {
        echo '\timing on'
        q $RUN "SELECT conname FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND NOT convalidated ORDER BY 1" \
            | while read -r c; do echo "\\echo VALIDATE $c"; echo "ALTER TABLE operation_runs VALIDATE CONSTRAINT $c;"; done
        sed -E 's/^(CREATE (UNIQUE )?INDEX CONCURRENTLY ([a-z_]+)).*/\\echo \3\n&/' "$BENCH_TMP/indexes_concurrently.sql"
    } >"$BENCH_TMP/byhand_validate.sql"
    b=$(now)
    PGAPPNAME=oprun_bench_byhand "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url $RUN)" \
        -f "$BENCH_TMP/byhand_validate.sql" >"$BENCH_TMP/byhand_timing.txt" \
        || die "by-hand validations/index builds failed"
    BYHAND_SETUP_S=$(python3 -c "print(round($a - $T0, 2))")
    BYHAND_GAP_S=$(python3 -c "print(round($b - $a, 2))")
    BYHAND_B=$b
}
action_plain() {
    PGAPPNAME=oprun_bench_plain "$PSQL" -X -q -1 -v ON_ERROR_STOP=1 -d "$(url $RUN)" \
        -f "$BENCH_TMP/indexes_plain.sql" >/dev/null || die "plain CREATE INDEX failed"
}

run_phase() { # NAME LABEL APPNAME
    local name=$1 label=$2 app=$3 wpid spid t1 rc stats sum_after writer_rows total errors
    create_db "$RUN" "$TPL"
    q postgres 'CHECKPOINT' >/dev/null 2>&1 || true   # start every phase from the same WAL state
    sampler_for "$app"
    "$PSQL" -X -At -d "$(url postgres)" -f "$SAMPLER_SQL" >"$BENCH_TMP/samples_$name.txt" 2>/dev/null &
    spid=$!; BENCH_PIDS+=("$spid")
    "$PGBENCH" -n -c 1 -R "$RATE" -T 3600 -f "$BENCH_TMP/writer.sql" -l \
        --log-prefix="$BENCH_TMP/writer_$name" "$(url $RUN)" \
        >"$BENCH_TMP/pgbench_$name.out" 2>"$BENCH_TMP/pgbench_$name.err" &
    wpid=$!; BENCH_PIDS+=("$wpid")
    sleep "$PRE"
    kill -0 "$wpid" 2>/dev/null || { cat "$BENCH_TMP/pgbench_$name.err" >&2; die "the writer did not start"; }
    T0=$(now)
    "action_$name"
    t1=$(now)
    sleep "$POST"
    errors=$(grep -c -E 'aborted|ERROR' "$BENCH_TMP/pgbench_$name.err" || true)
    kill -0 "$wpid" 2>/dev/null || errors="$errors (writer exited early)"
    kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true
    kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
    local from=$T0
    [[ $name == byhand ]] && from=$BYHAND_B
    stats=$(python3 "$BENCH_DIR/benchlib.py" window "$BENCH_TMP"/writer_"$name".* "$T0" "$t1" --pre "$PRE")
    locks=$(python3 "$BENCH_DIR/benchlib.py" samples "$BENCH_TMP/samples_$name.txt" --t0 "$T0" --t1 "$t1" --json)
    sum_after=$(q $RUN "$SUMSQL")
    writer_rows=$(q $RUN "SELECT count(*) FROM operation_runs WHERE id > $MAXID")
    total=$(q $RUN "SELECT count(*) FROM operation_runs")
    if [[ $name == tool ]]; then
        "$BIN" --database-url "$(url $RUN)" status --require schema-ready >/dev/null \
            || die "status --require schema-ready failed after migrate"
        python3 "$BENCH_DIR/benchlib.py" samples "$BENCH_TMP/samples_$name.txt" --t0 "$T0" --t1 "$t1" \
            >"$BENCH_TMP/tool_profile.md"
    fi
    python3 - "$name" "$label" "$T0" "$t1" "$from" "$stats" "$SUM_BEFORE" "$sum_after" "$ROWS" "$writer_rows" "$total" "$errors" "$locks" "$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT" <<'PY'
import json, sys
name, label, t0, t1, frm, stats, before, after, rows, wrows, total, errors, locks, load = sys.argv[1:]
s = json.loads(stats)
lk = json.loads(locks)
print(json.dumps({
    "phase": label,
    "wall_s": round(float(t1) - float(t0), 2),
    "core_s": round(float(t1) - float(frm), 2),
    "writer_tx": s["tx"],
    "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"], "max_ms": s["max_ms"],
    "max_service_ms": s["max_service_ms"],
    "idle_p99_ms": s["idle_p99_ms"], "idle_max_ms": s["idle_max_ms"],
    "covers": s["covers_window"],
    "rows_intact": "yes" if before == after else f"NO ({before} -> {after})",
    "rows_after": f"{int(total):,} = {int(rows):,} + {int(wrows):,} written",
    "writer_errors": errors,
    "writer_lock_samples": f"{lk['writer_lock_waits']}/{lk['samples']}",
    "load1": load,
}))
PY
    drop_db "$RUN"
    echo "  $label: done in $(python3 -c "print(round($t1 - $T0, 1))") s" >&2
}

run_phase byhand "by hand (psql): setup + VALIDATE + CREATE INDEX CONCURRENTLY" oprun_bench_byhand
run_phase tool "oprun-cutover migrate" oprun-cutover
run_phase plain "anti-baseline: plain CREATE INDEX in one transaction" oprun_bench_plain

# --- 3. Report ---------------------------------------------------------------------------------
echo
echo "### writer latency while each runs (ms; window = the action's wall time)"
echo
python3 "$BENCH_DIR/benchlib.py" table "$OUT" phase wall_s writer_tx p50_ms p99_ms max_ms max_service_ms idle_max_ms writer_lock_samples writer_errors covers rows_intact rows_after load1
echo
echo "(idle_max_ms: the writer's worst latency in the ${PRE}s before the action; writer_lock_samples:"
echo " 0.2 s samples in which the writer waited on a lock / all samples in the window; covers: the writer"
echo " ran across the whole window; rows_intact: every pre-existing row hashes the same afterwards;"
echo " load1: 1-minute load average right after the phase)"
echo
echo "### by-hand statements (psql \\timing)"
echo
echo "| statement | ms |"
echo "|---|---:|"
awk '/^VALIDATE |^operation_runs_/ { name = $0; next } /^Time:/ { printf "| %s | %s |\n", name, $2 }' "$BENCH_TMP/byhand_timing.txt"
echo
python3 - "$OUT" "$BYHAND_SETUP_S" "$BYHAND_GAP_S" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hand = next(r for r in rows if r["phase"].startswith("by hand"))
tool = next(r for r in rows if r["phase"].startswith("oprun-cutover"))
core = hand["core_s"]
print("### totals")
print()
print("| measure | seconds | tool / this |")
print("|---|---:|---:|")
print(f"| oprun-cutover migrate | {tool['wall_s']:.2f} | 1.00x |")
print(f"| by hand: VALIDATE x n + CREATE INDEX CONCURRENTLY x 2 (SPEC's baseline) | {core:.2f} | {tool['wall_s'] / core:.2f}x |")
print(f"| by hand: everything (columns + migrations {float(sys.argv[2]):.2f} s + the above) | {hand['wall_s']:.2f} | {tool['wall_s'] / hand['wall_s']:.2f}x |")
PY
echo
echo "### where oprun-cutover migrate spent its time (pg_stat_activity sampled every 0.2 s)"
echo
cat "$BENCH_TMP/tool_profile.md"

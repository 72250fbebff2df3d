#!/usr/bin/env bash
# Scenario 2: `oprun-cutover migrate` on a fresh, empty PostgreSQL database vs `psql -1 -f` of the
# same SQL. SPEC §7 target: within 1.25x of psql.
#
# The psql script is built from the tool's own dry run on a fresh database
# (`plan --format json`): every `.data.pending[].sql` (migrations/postgres/V*.sql) followed by
# every `.data.indexes[].sql`, with CONCURRENTLY removed, because CREATE INDEX CONCURRENTLY cannot
# run inside the single transaction of `psql -1` (on an empty table the plain build is the same
# work). A second script also runs the ALTER TABLE ... VALIDATE CONSTRAINT statements the tool
# runs after its migrations, for a like-for-like view; the target is judged on the first.
#
# The runs are split into ROUNDS rounds that alternate the commands, so that a change in
# background load (a shared machine) hits every command alike; the table merges the rounds.
#
#   bench/migrate_empty.sh        (RUNS=40 per command in ROUNDS=4, WARMUP=2 per round;
#                                  bounded to 200 runs)
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-40}
ROUNDS=${ROUNDS:-4}
WARMUP=${WARMUP:-2}
(( RUNS >= 3 && RUNS <= 200 )) || die "RUNS must be 3..200"
(( ROUNDS >= 1 && ROUNDS <= RUNS / 2 )) || die "ROUNDS must be 1..RUNS/2"
PER_ROUND=$(( RUNS / ROUNDS ))
need_binary; need_psql; need_hyperfine; need_python; need_jq
check_server

DB=oprun_bench_empty
U=$(url $DB)
create_db "$DB"

# 1. The SQL, from the tool's plan on the fresh database.
"$BIN" --database-url "$U" --format json plan >"$BENCH_TMP/plan.json"
PLAIN=$BENCH_TMP/migrate_plain.sql
{
    jq -r '.data.pending[] | .sql, ";"' "$BENCH_TMP/plan.json"
    jq -r '.data.indexes[] | .sql + ";"' "$BENCH_TMP/plan.json" \
        | sed -E 's/CREATE (UNIQUE )?INDEX CONCURRENTLY/CREATE \1INDEX/'
} >"$PLAIN"
grep -q CONCURRENTLY "$PLAIN" && die "CONCURRENTLY left in $PLAIN"

# 2. The constraints the tool validates afterwards (read from a migrated database).
"$BIN" --database-url "$U" migrate >/dev/null
"$BIN" --database-url "$U" status --require schema-ready >/dev/null || die "tool migrate did not reach schema_ready"
mapfile -t CONSTRAINTS < <("$PSQL" -X -At -d "$U" -c \
    "SELECT conname FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND conname LIKE 'oprun\_%' AND contype IN ('c', 'f') ORDER BY 1")
WITHVAL=$BENCH_TMP/migrate_plain_validate.sql
{
    jq -r '.data.pending[] | .sql, ";"' "$BENCH_TMP/plan.json"
    for c in "${CONSTRAINTS[@]}"; do echo "ALTER TABLE operation_runs VALIDATE CONSTRAINT $c;"; done
    jq -r '.data.indexes[] | .sql + ";"' "$BENCH_TMP/plan.json" \
        | sed -E 's/CREATE (UNIQUE )?INDEX CONCURRENTLY/CREATE \1INDEX/'
} >"$WITHVAL"

# 3. The baseline really builds the same schema.
create_db "$DB"
"$PSQL" -X -q -1 -v ON_ERROR_STOP=1 -d "$U" -f "$PLAIN" >/dev/null 2>&1
got=$("$PSQL" -X -At -d "$U" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'operation_runs'")
[[ $got == 3 ]] || die "psql baseline built $got indexes on operation_runs, expected 3 (pkey + 2)"

PREP="$PSQL -X -q -d $(url postgres) -c 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' -c 'CREATE DATABASE $DB'"
machine_header
echo "psql script: $(jq '.data.pending | length' "$BENCH_TMP/plan.json") migrations + $(jq '.data.indexes | length' "$BENCH_TMP/plan.json") index builds; the tool also validates ${#CONSTRAINTS[@]} constraints"
echo
files=()
for (( r = 1; r <= ROUNDS; r++ )); do
    JSON=$BENCH_TMP/migrate_empty_$r.json
    hyperfine -N --style none --warmup "$WARMUP" --runs "$PER_ROUND" --prepare "$PREP" --export-json "$JSON" \
        -n "oprun-cutover migrate" "$BIN --database-url $U migrate" \
        -n "psql -1 -f (migrations + indexes)" "$PSQL -X -q -1 -v ON_ERROR_STOP=1 -d $U -f $PLAIN" \
        -n "psql -1 -f (+ validations)" "$PSQL -X -q -1 -v ON_ERROR_STOP=1 -d $U -f $WITHVAL" \
        >/dev/null
    files+=("$JSON")
done
hf_table --ref "psql -1 -f (migrations + indexes)" "${files[@]}"

# 4. Where the time goes (one run each under strace, so absolute times are inflated): how many
#    server connections, how many messages, and how much of the run was spent waiting on the
#    server. Skipped when strace is missing or not permitted.
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    echo
    echo "one run each under strace -f (inflated times; proportions are what matter):"
    echo
    echo "| command | server connections | messages sent | waiting on server (ms) | process total (ms) |"
    echo "|---|---:|---:|---:|---:|"
    for which in tool psql; do
        eval "$PREP" >/dev/null 2>&1
        if [[ $which == tool ]]; then
            strace -f -tt -e trace=connect,sendto,recvfrom -s 64 -o "$BENCH_TMP/st" \
                "$BIN" --database-url "$U" migrate >/dev/null 2>&1
            name="oprun-cutover migrate"
        else
            strace -f -tt -e trace=connect,sendto,recvfrom -s 64 -o "$BENCH_TMP/st" \
                "$PSQL" -X -q -1 -d "$U" -f "$PLAIN" >/dev/null 2>&1
            name="psql -1 -f (migrations + indexes)"
        fi
        python3 "$BENCH_DIR/benchlib.py" strace-rt "$BENCH_TMP/st" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("| %s | %d | %d | %.1f | %.1f |" % (sys.argv[1], d["connections"], d["messages_sent"], d["waiting_on_server_ms"], d["total_ms"]))' "$name"
    done
fi

#!/usr/bin/env bash
# Scenario 1: process wall time of `oprun-cutover status` vs `psql -X -c 'select 1'` on the same
# migrated database, TLS off (sslmode=disable) and on (sslmode=require); peak RSS of `status`.
# SPEC §7 target: within 1.2x of psql in both modes; peak memory under 10 MiB. The same target
# covers `guard status`, measured too when the binary has it (guard installed in enforce mode on
# a one-table legacy family).
#
# The runs are split into ROUNDS rounds that alternate the commands, so that a change in
# background load (a shared machine) hits every command alike; the tables merge the rounds.
#
#   bench/status.sh            (RUNS=100 per command in ROUNDS=5, WARMUP=5 per round;
#                               bounded to 1000 runs)
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-100}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-5}
(( RUNS >= 3 && RUNS <= 1000 )) || die "RUNS must be 3..1000"
(( ROUNDS >= 1 && ROUNDS <= RUNS / 2 )) || die "ROUNDS must be 1..RUNS/2"
PER_ROUND=$(( RUNS / ROUNDS ))
need_binary; need_psql; need_hyperfine; need_time; need_python
check_server

DB=oprun_bench_status
create_db "$DB"
# A legacy table, so that `guard status` has something to report on.
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url $DB)" -c \
    'CREATE TABLE bulk_operation_runs (id bigserial PRIMARY KEY, tenant_id bigint, status text)'
"$BIN" --database-url "$(url $DB)" -q migrate >/dev/null
GUARD=no
if "$BIN" guard --help >/dev/null 2>&1 \
    && "$BIN" --database-url "$(url $DB)" -q guard install --mode enforce >/dev/null 2>&1 \
    && "$BIN" --database-url "$(url $DB)" guard status >/dev/null 2>&1; then
    GUARD=yes
else
    note "guard status not measured: this binary has no working 'guard install/status'"
fi

# The catalog queries `status` sends (sql/postgres/{inspect,history,state}.sql, plus
# legacy_family.sql and guard_state.sql when the binary has the guard), through psql: the same
# server-side work without the tool, to separate its own cost from the queries'. $1 is the
# schema, $2 the --legacy-table list (none).
SAME=$BENCH_TMP/status_same.sql
SAME_FILES=(inspect history state)
[[ $GUARD == yes && -f $REPO_DIR/sql/postgres/legacy_family.sql ]] && SAME_FILES+=(legacy_family guard_state)
for f in "${SAME_FILES[@]}"; do
    sed -e "s/\$1\b/'public'/g" -e "s/\$2\b/'[]'/g" "$REPO_DIR/sql/postgres/$f.sql"; echo ';'
done >"$SAME"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url $DB)" -f "$SAME" >/dev/null
SAME_NAME="psql -f (status's ${#SAME_FILES[@]} queries)"

SSL=$(admin -Atc 'show ssl')
machine_header
echo "server ssl: $SSL"
echo

for mode in disable require; do
    if [[ $mode == require && $SSL != on ]]; then
        echo "## sslmode=require: not measured: server has ssl=off"
        echo "(enable with ssl=on plus ssl_cert_file/ssl_key_file in postgresql.conf and a reload;"
        echo " this bench never reconfigures the server)"
        continue
    fi
    u=$(url "$DB" "$mode")
    "$BIN" --database-url "$u" status >/dev/null || die "status failed with sslmode=$mode"
    cmds=(-n "oprun-cutover status" "$BIN --database-url $u status"
          -n "psql -c 'select 1'" "$PSQL -X -q -d $u -c 'select 1'"
          -n "$SAME_NAME" "$PSQL -X -q -d $u -f $SAME")
    [[ $GUARD == yes ]] && cmds+=(-n "oprun-cutover guard status" "$BIN --database-url $u guard status")
    files=()
    for (( r = 1; r <= ROUNDS; r++ )); do
        json=$BENCH_TMP/status_${mode}_$r.json
        hyperfine -N --style none --warmup "$WARMUP" --runs "$PER_ROUND" --export-json "$json" \
            "${cmds[@]}" >/dev/null
        files+=("$json")
    done
    echo "## sslmode=$mode"
    echo
    hf_table --ref "psql -c 'select 1'" "${files[@]}"
    echo
done

echo "## peak RSS (max of 10 runs, /usr/bin/time -f %M)"
echo
echo "| command | sslmode | peak RSS (KiB) | MiB |"
echo "|---|---|---:|---:|"
for mode in disable require; do
    [[ $mode == require && $SSL != on ]] && continue
    u=$(url "$DB" "$mode")
    whats=(tool psql)
    [[ $GUARD == yes ]] && whats+=(guard)
    for what in "${whats[@]}"; do
        max=0
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            if [[ $what == tool ]]; then
                kb=$( { /usr/bin/time -f %M "$BIN" --database-url "$u" status >/dev/null; } 2>&1 | tail -n 1)
            elif [[ $what == guard ]]; then
                kb=$( { /usr/bin/time -f %M "$BIN" --database-url "$u" guard status >/dev/null; } 2>&1 | tail -n 1)
            else
                kb=$( { /usr/bin/time -f %M "$PSQL" -X -q -d "$u" -c 'select 1' >/dev/null; } 2>&1 | tail -n 1)
            fi
            (( kb > max )) && max=$kb
        done
        case $what in
            tool) name="oprun-cutover status" ;;
            guard) name="oprun-cutover guard status" ;;
            *) name="psql -c 'select 1'" ;;
        esac
        awk -v n="$name" -v m="$mode" -v k="$max" 'BEGIN { printf "| %s | %s | %d | %.1f |\n", n, m, k, k/1024 }'
    done
done

# Where the time goes: one run each under strace (inflated times; proportions are what matter).
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    u=$(url "$DB" disable)
    echo
    echo "## one run each under strace -f, sslmode=disable (inflated times; proportions are what matter)"
    echo
    echo "| command | server connections | messages sent (≈ round trips) | waiting on server (ms) | process total (ms) |"
    echo "|---|---:|---:|---:|---:|"
    diag() { # NAME CMD...
        local name=$1; shift
        "$@" >/dev/null 2>&1 || true   # warm the OS caches
        strace -f -tt -e trace=connect,sendto,recvfrom -s 64 -o "$BENCH_TMP/st" "$@" >/dev/null 2>&1 || true
        python3 "$BENCH_DIR/benchlib.py" strace-rt "$BENCH_TMP/st" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("| %s | %d | %d | %.1f | %.1f |" % (sys.argv[1], d["connections"], d["messages_sent"], d["waiting_on_server_ms"], d["total_ms"]))' "$name"
    }
    diag "oprun-cutover status" "$BIN" --database-url "$u" status
    [[ $GUARD == yes ]] && diag "oprun-cutover guard status" "$BIN" --database-url "$u" guard status
    diag "psql -c 'select 1'" "$PSQL" -X -q -d "$u" -c 'select 1'
    diag "$SAME_NAME" "$PSQL" -X -q -d "$u" -f "$SAME"
fi

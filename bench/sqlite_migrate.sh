#!/usr/bin/env bash
# Scenario 5: `oprun-cutover migrate` on a fresh SQLite file, wall time. SPEC §7 sets no target
# for this step alone (the related one: `demo` on SQLite, the whole cutover, under a second).
# Reference when the sqlite3 shell is installed: the same migration files
# (migrations/sqlite/V*.sql) piped to `sqlite3` in one transaction.
#
#   bench/sqlite_migrate.sh       (RUNS=50 WARMUP=5; bounded to 500)
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-50}
WARMUP=${WARMUP:-5}
(( RUNS >= 3 && RUNS <= 500 )) || die "RUNS must be 3..500"
need_binary; need_hyperfine; need_python; need_time

DBF=$BENCH_TMP/oprun_bench.db
PREP="rm -f $DBF $DBF-wal $DBF-shm $DBF-journal"
"$BIN" --database-url "sqlite:$DBF" migrate >/dev/null
"$BIN" --database-url "sqlite:$DBF" status --require schema-ready >/dev/null || die "migrate did not reach schema_ready"

machine_header
echo "sqlite file: $DBF ($(df -T "$BENCH_TMP" | awk 'NR == 2 { print $2 }') filesystem)"
echo

cmds=(-n "oprun-cutover migrate (sqlite)" "$BIN --database-url sqlite:$DBF migrate")
if command -v sqlite3 >/dev/null 2>&1; then
    { echo 'BEGIN;'; cat "$REPO_DIR"/migrations/sqlite/V*.sql; echo 'COMMIT;'; } >"$BENCH_TMP/all.sql"
    # -init: read the script, then exit (stdin is empty).
    cmds+=(-n "sqlite3 (same migrations, one transaction)" "sqlite3 -bail -init $BENCH_TMP/all.sql $DBF .quit")
    ref="sqlite3 (same migrations, one transaction)"
else
    note "sqlite3 shell not installed (apt-get install -y sqlite3): no reference row"
    ref="oprun-cutover migrate (sqlite)"
fi
hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" --prepare "$PREP" \
    --export-json "$BENCH_TMP/sqlite.json" "${cmds[@]}" >/dev/null
hf_table --ref "$ref" "$BENCH_TMP/sqlite.json"

eval "$PREP"
kb=$( { /usr/bin/time -f %M "$BIN" --database-url "sqlite:$DBF" migrate >/dev/null; } 2>&1 | tail -n 1)
echo
echo "peak RSS of one migrate on a fresh file: $kb KiB ($(python3 -c "print(round($kb / 1024, 1))") MiB)"

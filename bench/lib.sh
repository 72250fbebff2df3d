# Shared helpers for the oprun-cutover benchmarks. Sourced by the bench/*.sh scripts; not run
# on its own. bash + coreutils + python3 (stdlib only).
#
# Environment:
#   OPRUN_BIN         the binary to measure (default: <repo>/target/release/oprun-cutover)
#   OPRUN_BENCH_PG    server URL without a database (default: postgres://postgres@127.0.0.1:5432)
#   PG_BINDIR         directory holding psql/pgbench (default: `pg_config --bindir`, else the
#                     newest /usr/lib/postgresql/*/bin, else whatever is on PATH)
#
# Every database a bench creates is named oprun_bench_* and dropped on exit; no other database
# is touched.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BIN=${OPRUN_BIN:-$REPO_DIR/target/release/oprun-cutover}
PG_BASE=${OPRUN_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PG_BASE=${PG_BASE%/}

die() { echo "bench: $*" >&2; exit 2; }
note() { echo "# $*" >&2; }

# need CMD "how to install it"
need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: $2"
}

need_binary() {
    [[ -x $BIN ]] || die "no binary at $BIN: build it first with 'cargo build --release' in $REPO_DIR (or set OPRUN_BIN)"
}

# Debian's /usr/bin/psql is a Perl wrapper (pg_wrapper) that adds ~30 ms of interpreter start-up
# to every call; a fair floor is the real psql binary, so use the server's bindir.
find_pg_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        echo "$PG_BINDIR"; return
    fi
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [[ -x $d/psql ]]; then echo "$d"; return; fi
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $d && -x $d/psql ]]; then echo "$d"; return; fi
    dirname "$(command -v psql 2>/dev/null || echo /usr/bin/psql)"
}
PG_BINDIR=$(find_pg_bindir)
PSQL=$PG_BINDIR/psql
PGBENCH=$PG_BINDIR/pgbench

need_psql() {
    [[ -x $PSQL ]] || die "psql not found (looked in $PG_BINDIR): apt-get install -y postgresql-client (or set PG_BINDIR)"
}
need_pgbench() {
    [[ -x $PGBENCH ]] || die "pgbench not found (looked in $PG_BINDIR): apt-get install -y postgresql-15 (Debian 12 ships pgbench with the server package; newer Debian: postgresql-client), or set PG_BINDIR"
}
need_hyperfine() { need hyperfine "apt-get update && apt-get install -y hyperfine (Debian 12+), or cargo install hyperfine"; }
need_time() { [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing: apt-get install -y time"; }
need_python() { need python3 "apt-get install -y python3"; }
need_jq() { need jq "apt-get install -y jq"; }

# url DB [SSLMODE]
url() { echo "$PG_BASE/$1?sslmode=${2:-disable}"; }

# Admin statements go to the maintenance database `postgres`.
admin() { PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(url postgres)" "$@"; }

# Only ever create or drop databases named oprun_bench_*.
check_name() { [[ $1 =~ ^oprun_bench_[a-z0-9_]+$ ]] || die "refusing database name '$1'"; }

BENCH_DBS=()
create_db() { # create_db NAME [TEMPLATE]
    check_name "$1"
    admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
    if [[ -n ${2:-} ]]; then
        check_name "$2"
        admin -c "CREATE DATABASE $1 TEMPLATE $2" >/dev/null
    else
        admin -c "CREATE DATABASE $1" >/dev/null
    fi
    BENCH_DBS+=("$1")
}
drop_db() {
    check_name "$1"
    admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}

BENCH_PIDS=()
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/oprun-bench.XXXXXX")
cleanup() {
    local p d
    for p in "${BENCH_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for d in "${BENCH_DBS[@]}"; do
        drop_db "$d"
    done
    if [[ -z ${KEEP_TMP:-} ]]; then rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_server() {
    admin -Atc 'select 1' >/dev/null 2>&1 \
        || die "cannot reach PostgreSQL at $PG_BASE (set OPRUN_BENCH_PG)"
}

# The machine, printed at the top of every run so a pasted table carries its context.
machine_header() {
    local pgv mem load
    pgv=$(admin -Atc 'show server_version' 2>/dev/null || echo '?')
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  nproc: $(nproc)  memory: $mem  PostgreSQL: $pgv  load avg: $load"
    local rev
    rev=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$REPO_DIR" diff --quiet HEAD -- src sql migrations 2>/dev/null || rev="$rev + uncommitted changes"
    echo "binary: $BIN ($("$BIN" --version 2>/dev/null || echo '?'), built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'); repo HEAD at run time: $rev)"
    echo "psql: $PSQL"
}

now() { date +%s.%N; }

# The mean/median/min table of one or more hyperfine JSON exports.
hf_table() { python3 "$BENCH_DIR/benchlib.py" hyperfine "$@"; }

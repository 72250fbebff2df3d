#!/usr/bin/env bash
# Scenario 4: `oprun-cutover fingerprint --ids-file` on 1M and 5M shuffled numeric ids and 1M
# string ids: wall time and peak RSS. SPEC §7 sets no target; this records it.
# Reference (not the same bytes, the same kind of work): coreutils `sort -u | sha256sum` on the
# same file (GNU sort uses up to nproc threads).
#
#   bench/fingerprint.sh      (RUNS=5 per input, bounded to 50; no database needed)
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
(( RUNS >= 2 && RUNS <= 50 )) || die "RUNS must be 2..50"
need_binary; need_hyperfine; need_time; need_python; need_jq
need sort "apt-get install -y coreutils"

machine_header
echo

declare -A KIND=([numeric_1m]=numeric [numeric_5m]=numeric [string_1m]=string)
declare -A COUNT=([numeric_1m]=1000000 [numeric_5m]=5000000 [string_1m]=1000000)
INPUTS=(numeric_1m numeric_5m string_1m)

echo "| input | ids | file | mean ± σ (s) | min (s) | ids/s (mean) | peak RSS (MiB, max of 3) | sort -u \\| sha256sum mean (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for name in "${INPUTS[@]}"; do
    f=$BENCH_TMP/$name.txt
    python3 "$BENCH_DIR/benchlib.py" ids "${KIND[$name]}" "${COUNT[$name]}" "$f"
    cmd="$BIN fingerprint --type report.export --directory-context-id d1 --ids-file $f"
    # Correctness first: every id counted, numeric iff the ids are numeric.
    $cmd --format json >"$BENCH_TMP/$name.json"
    jq -e --argjson n "${COUNT[$name]}" --argjson num "$([[ ${KIND[$name]} == numeric ]] && echo true || echo false)" \
        '.ok and .data.ids_count == $n and .data.ids_numeric == $num' "$BENCH_TMP/$name.json" >/dev/null \
        || die "unexpected fingerprint output for $name: $(head -c 400 "$BENCH_TMP/$name.json")"
    if [[ ${KIND[$name]} == numeric ]]; then ref="sort -n -u $f | sha256sum"; else ref="LC_ALL=C sort -u $f | sha256sum"; fi
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$BENCH_TMP/$name.hf.json" \
        -n tool "$cmd" -n ref "$ref" >/dev/null
    rss=0
    for _ in 1 2 3; do
        kb=$( { /usr/bin/time -f %M $cmd >/dev/null; } 2>&1 | tail -n 1)
        (( kb > rss )) && rss=$kb
    done
    python3 - "$BENCH_TMP/$name.hf.json" "$name" "${COUNT[$name]}" "$(stat -c %s "$f")" "$rss" <<'PY'
import json, sys
path, name, n, size, rss = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
t, ref = res["tool"], res["ref"]
print(f"| {name} | {int(n):,} | {int(size) / 1048576:.1f} MiB | {t['mean']:.3f} ± {t['stddev']:.3f} | {t['min']:.3f} "
      f"| {int(n) / t['mean'] / 1e6:.1f} M | {int(rss) / 1024:.1f} | {ref['mean']:.3f} |")
PY
done

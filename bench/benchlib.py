#!/usr/bin/env python3
"""Result formatting for the oprun-cutover benchmarks (python3 stdlib only).

    benchlib.py hyperfine [--ref NAME] FILE.json...      markdown table of hyperfine exports
    benchlib.py window LOG T0 T1 [--pre SECONDS]          writer latency inside [T0, T1] as JSON
    benchlib.py samples FILE [--interval S]               where a session spent its time, from
                                                          pg_stat_activity samples
    benchlib.py table FILE.jsonl COLUMN...                 markdown table of JSON lines
    benchlib.py ids KIND COUNT PATH [--seed N]             write an ids file (numeric|string)
    benchlib.py strace-rt FILE                             connections, messages and time spent
                                                          waiting on the server, from strace
"""

import argparse
import json
import math
import random
import sys


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def hyperfine(args):
    # Several exports (rounds of the same commands, run alternately so that a change in
    # background load hits every command alike) merge by command name.
    merged = {}
    for path in args.files:
        with open(path) as f:
            for r in json.load(f)["results"]:
                merged.setdefault(r["command"], []).extend(r["times"])
    rows = []
    for name, times in merged.items():
        times = sorted(times)
        n = len(times)
        mean = sum(times) / n
        sd = math.sqrt(sum((t - mean) ** 2 for t in times) / (n - 1)) if n > 1 else 0.0
        median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
        rows.append({"command": name, "mean": mean, "stddev": sd, "median": median,
                     "min": times[0], "max": times[-1], "times": times})
    ref = None
    if args.ref:
        ref = next((r for r in rows if r["command"] == args.ref), None)
        if ref is None:
            sys.exit(f"benchlib: no result named {args.ref!r}")
    unit = args.unit
    scale = 1000.0 if unit == "ms" else 1.0
    head = f"| command | mean ± σ ({unit}) | median ({unit}) | min ({unit}) | max ({unit}) | runs |"
    sep = "|---|---:|---:|---:|---:|---:|"
    if ref:
        head += f" mean / {ref['command']} | median / {ref['command']} |"
        sep += "---:|---:|"
    print(head)
    print(sep)
    for r in rows:
        line = (
            f"| {r['command']} | {r['mean'] * scale:.1f} ± {r['stddev'] * scale:.1f} "
            f"| {r['median'] * scale:.1f} | {r['min'] * scale:.1f} | {r['max'] * scale:.1f} "
            f"| {len(r['times'])} |"
        )
        if ref:
            line += f" {r['mean'] / ref['mean']:.2f}x | {r['median'] / ref['median']:.2f}x |"
        print(line)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def read_pgbench_log(path):
    """pgbench -l lines: client txno latency_us script epoch_s epoch_us [lag_us].

    With -R the latency counts from the *scheduled* start, so it includes the schedule lag: the
    delay an application queueing work at that rate would see. Unterminated or malformed lines
    (a log cut short when the writer is stopped) are skipped."""
    out = []
    with open(path) as f:
        data = f.read()
    for line in data.split("\n")[:-1]:
        parts = line.split()
        if len(parts) < 6:
            continue
        try:
            lat = int(parts[2]) / 1e6
            end = int(parts[4]) + int(parts[5]) / 1e6
            lag = int(parts[6]) / 1e6 if len(parts) > 6 else 0.0
        except ValueError:
            continue
        out.append((end - lat, end, lat, lag))
    return out


def stats(txns):
    lat = sorted(t[2] for t in txns)
    service = sorted(t[2] - t[3] for t in txns)
    return {
        "tx": len(lat),
        "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
        "p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
        "max_service_ms": round(service[-1] * 1000, 1) if service else None,
    }


def window(args):
    txns = read_pgbench_log(args.log)
    t0, t1 = args.t0, args.t1
    # A transaction counts when its life (scheduled start .. end) overlaps the window.
    inside = [t for t in txns if t[1] >= t0 and t[0] <= t1]
    before = [t for t in txns if t[1] < t0 and t[1] >= t0 - args.pre]
    result = {"window_s": round(t1 - t0, 2)}
    result.update(stats(inside))
    idle = stats(before)
    result["idle_tx"] = idle["tx"]
    result["idle_p99_ms"] = idle["p99_ms"]
    result["idle_max_ms"] = idle["max_ms"]
    result["logged_tx"] = len(txns)
    result["first_end"] = txns[0][1] if txns else None
    result["last_end"] = txns[-1][1] if txns else None
    # The writer must cover the whole window, or the max is meaningless.
    result["covers_window"] = bool(txns) and txns[0][1] < t0 and txns[-1][1] > t1
    print(json.dumps(result))


def samples(args):
    """Lines: epoch|state|wait_event_type|writer_wait|query-prefix, one per sample (the sampler
    in migrate_adopt.sh). Only samples inside [--t0, --t1] count."""
    counts = {}
    total = 0
    writer_lock = 0
    writer_lock_during = {}
    with open(args.file) as f:
        for line in f:
            parts = line.rstrip("\n").split("|", 4)
            if len(parts) < 5:
                continue
            try:
                t = float(parts[0])
            except ValueError:
                continue
            if (args.t0 is not None and t < args.t0) or (args.t1 is not None and t > args.t1):
                continue
            _, state, wait, writer_wait, query = parts
            if state != "active":
                key = f"(session {state or 'absent'}: client side, connecting, or between statements)"
            else:
                key = " ".join(query.split())[: args.width]
                if wait:
                    key += f"  [waiting: {wait}]"
            counts[key] = counts.get(key, 0) + 1
            total += 1
            if writer_wait.startswith("Lock"):
                writer_lock += 1
                writer_lock_during[key] = writer_lock_during.get(key, 0) + 1
    if args.json:
        print(json.dumps({"samples": total, "writer_lock_waits": writer_lock}))
        return
    print("| statement the session was running (first %d chars) | samples | ≈ seconds | share |" % args.width)
    print("|---|---:|---:|---:|")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"| `{key.replace('|', '/')}` | {n} | {n * args.interval:.1f} | {100.0 * n / max(total, 1):.0f}% |")
    print()
    print(f"writer seen waiting on a lock in {writer_lock} of {total} samples"
          + ("" if not writer_lock_during else ": " + ", ".join(f"{n} during `{k}`" for k, n in writer_lock_during.items())))


def table(args):
    rows = []
    with open(args.file) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    print("| " + " | ".join(args.columns) + " |")
    print("|" + "---|" * len(args.columns))
    for r in rows:
        print("| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in args.columns) + " |")


def ids(args):
    rng = random.Random(args.seed)
    if args.kind == "numeric":
        values = list(range(1, args.count + 1))
        rng.shuffle(values)
        lines = (str(v) for v in values)
    else:
        # Distinct opaque string ids, e.g. "pv-3f2a9c01-000042": not all digits, so they sort
        # bytewise.
        values = [f"pv-{rng.getrandbits(32):08x}-{i:06d}" for i in range(args.count)]
        rng.shuffle(values)
        lines = iter(values)
    with open(args.path, "w") as f:
        for chunk_start in range(0, args.count, 100000):
            f.write("\n".join(next(lines) for _ in range(min(100000, args.count - chunk_start))))
            f.write("\n")


def strace_rt(args):
    """Summarize `strace -f -tt -e trace=connect,sendto,recvfrom -s 64` of one client run: how
    many server connections it opened, how many messages it sent, how long it waited for the
    server (send .. first reply) and how long it spent between replies and next sends."""
    import re

    def ts(field):
        h, m, sec = field.split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)

    events = []
    with open(args.file) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 3 or ":" not in parts[1]:
                continue
            events.append((ts(parts[1]), parts[2]))
    if not events:
        sys.exit("benchlib: empty strace log")
    start, end = events[0][0], events[-1][0]
    connects = sum(1 for _, e in events if e.startswith("connect(") and "5432" in e)
    sends = 0
    wait = 0.0
    pending = None
    for t, e in events:
        if e.startswith("sendto("):
            sends += 1
            if pending is None:
                pending = t
        elif e.startswith("recvfrom(") and "EAGAIN" not in e and pending is not None:
            wait += t - pending
            pending = None
    first_connect = next((t for t, e in events if e.startswith("connect(")), start)
    print(json.dumps({
        "connections": connects,
        "messages_sent": sends,
        "process_start_to_connect_ms": round((first_connect - start) * 1000, 1),
        "waiting_on_server_ms": round(wait * 1000, 1),
        "total_ms": round((end - start) * 1000, 1),
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hyperfine")
    h.add_argument("--ref")
    h.add_argument("--unit", choices=["ms", "s"], default="ms")
    h.add_argument("files", nargs="+")
    h.set_defaults(fn=hyperfine)
    w = sub.add_parser("window")
    w.add_argument("log")
    w.add_argument("t0", type=float)
    w.add_argument("t1", type=float)
    w.add_argument("--pre", type=float, default=3.0)
    w.set_defaults(fn=window)
    s = sub.add_parser("samples")
    s.add_argument("file")
    s.add_argument("--interval", type=float, default=0.2)
    s.add_argument("--width", type=int, default=70)
    s.add_argument("--t0", type=float)
    s.add_argument("--t1", type=float)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=samples)
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("columns", nargs="+")
    t.set_defaults(fn=table)
    i = sub.add_parser("ids")
    i.add_argument("kind", choices=["numeric", "string"])
    i.add_argument("count", type=int)
    i.add_argument("path")
    i.add_argument("--seed", type=int, default=56)
    i.set_defaults(fn=ids)
    st = sub.add_parser("strace-rt")
    st.add_argument("file")
    st.set_defaults(fn=strace_rt)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()

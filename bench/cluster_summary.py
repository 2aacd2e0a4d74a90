#!/usr/bin/env python3
"""Merges the cluster benchmark's node reports and baselines into one JSON file and a table.

bench/run_cluster.sh calls it. Inputs: for each group count, the directory holding the three
nodes' reports (node-<k>.json, see bench/cluster/bench_report.h); optionally the Google
Benchmark JSON of the baselines measured in the same run: the WAL alone (wal_bench), one durable
write through the reactor (reactor_bench BM_Fsync/reactor_linked) and one loopback round trip
(net_bench BM_NetRtt/reactor/64).

Per row (groups x entry bytes x in flight): committed entries/s, commit latency p50/p99/p999,
CPU seconds per committed entry summed over the three processes, the cores they used and the
time their shard threads were kept waiting in a run queue (the machine's load), fsyncs of the
leader, and the ratios: wal_fraction (entries/s / the WAL's durable append rate with the same entry size at
1024 in flight) and, at 1 in flight, latency_vs_floor (p50 / (fsync + RTT)).
"""
import argparse
import datetime
import json
import os
import platform
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def benchmarks(path):
    """A baseline's Google Benchmark rows; none (and a warning) if it did not run."""
    if not path:
        return []
    try:
        return load(path).get("benchmarks", [])
    except (OSError, ValueError) as error:
        print(f"warning: baseline {path} unreadable ({error}); its ratios are left out",
              file=sys.stderr)
        return []


def wal_ceilings(path):
    """entry bytes -> durable appends/s of the WAL alone at 1024 in flight."""
    ceilings = {}
    for bench in benchmarks(path):
        match = re.match(r"BM_Wal/wal_4_fsyncs/(\d+)/1024", bench["name"])
        if match and "items_per_second" in bench:
            ceilings[int(match.group(1))] = bench["items_per_second"]
    return ceilings


def counter(path, name_prefix, key):
    for bench in benchmarks(path):
        if bench["name"].startswith(name_prefix) and key in bench:
            return bench[key]
    return None


def cluster_rows(directory):
    nodes = [load(os.path.join(directory, f"node-{k}.json")) for k in (1, 2, 3)]
    leader = next(node for node in nodes if node["measuring"])
    others = [node for node in nodes if not node["measuring"]]
    rows = []
    for cell in leader["cells"]:
        cpu = cell["cpu_s"]
        runq = cell["runq_wait_s"]
        for node in others:
            cpu += sum(c["cpu_s"] for c in node["cells"] if c["cell"] == cell["cell"])
            runq += sum(c["runq_wait_s"] for c in node["cells"] if c["cell"] == cell["cell"])
        committed = cell["committed"]
        rows.append({
            "groups": leader["groups"],
            "fsyncs_in_flight": leader["fsyncs_in_flight"],
            "entry_bytes": cell["entry_bytes"],
            "in_flight": cell["in_flight"],
            "committed": committed,
            "seconds": cell["seconds"],
            "entries_per_s": cell["entries_per_s"],
            "p50_us": cell["p50_us"],
            "p99_us": cell["p99_us"],
            "p999_us": cell["p999_us"],
            "max_us": cell["max_us"],
            "cpu_s_all_nodes": round(cpu, 4),
            "cpu_us_per_entry": round(cpu * 1e6 / committed, 3) if committed else None,
            # How much of the time the three shard threads (engine, proposers, apply) were kept
            # waiting for a CPU: the machine's load, felt (3.0 = all three, all the time).
            "runq_wait_s_all_nodes": round(runq, 4),
            "cpu_cores_used": round(cpu / cell["seconds"], 3) if cell["seconds"] else None,
            "runq_cores_waiting": round(runq / cell["seconds"], 3) if cell["seconds"] else None,
            "leader_fsyncs": cell["fsyncs"],
            "entries_per_leader_fsync": round(committed / cell["fsyncs"], 1) if cell["fsyncs"] else None,
            "refused_full": cell["refused_full"],
            "failed": cell["failed"],
            "first_failure": cell["first_failure"],
        })
    return rows


def add_ratios(rows, ceilings, floor_us):
    for row in rows:
        ceiling = ceilings.get(row["entry_bytes"])
        if ceiling:
            row["wal_ceiling_per_s"] = round(ceiling, 1)
            row["wal_fraction"] = round(row["entries_per_s"] / ceiling, 3)
        if floor_us and row["in_flight"] == 1:
            row["latency_vs_floor"] = round(row["p50_us"] / floor_us, 2)


def targets(rows):
    """The issue's targets, each with the row it rests on (the best one that qualifies)."""
    heavy = [r for r in rows if r["entry_bytes"] == 100 and r["in_flight"] >= 1024]
    best = max(heavy, key=lambda r: r["entries_per_s"], default=None)
    single = [r for r in rows if r["in_flight"] == 1 and "latency_vs_floor" in r]
    result = {}
    if best:
        result["committed_100B_per_s_at_1024plus"] = {
            "value": best["entries_per_s"], "target": 1e6, "met": best["entries_per_s"] >= 1e6}
        result["p99_us_at_that_load"] = {
            "value": best["p99_us"], "target": 5000, "met": best["p99_us"] < 5000}
        if "wal_fraction" in best:
            result["wal_fraction_at_that_load"] = {
                "value": best["wal_fraction"], "target": 0.5, "met": best["wal_fraction"] >= 0.5}
    if single:
        worst = max(r["latency_vs_floor"] for r in single)
        result["one_in_flight_latency_vs_floor"] = {"value": worst, "target": 1.5, "met": worst <= 1.5}
    return result


def machine():
    try:
        load_average = os.getloadavg()
    except OSError:
        load_average = None
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "cpu_model": model, "load_average_at_end": load_average,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def print_table(rows, baselines, result):
    print(f"{'groups':>6} {'fsyncs':>6} {'bytes':>5} {'inflight':>8} {'entries/s':>11} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'p999 ms':>8} {'cpu us/e':>9} {'cores':>6} {'runq':>6} {'e/fsync':>8} "
          f"{'wal frac':>8} {'vs floor':>8}")
    for r in rows:
        def cell(key, fmt):
            return format(r[key], fmt) if r.get(key) is not None else "-"
        print(f"{r['groups']:>6} {r['fsyncs_in_flight']:>6} {r['entry_bytes']:>5} {r['in_flight']:>8} {r['entries_per_s']:>11.0f} "
              f"{r['p50_us'] / 1e3:>8.2f} {r['p99_us'] / 1e3:>8.2f} {r['p999_us'] / 1e3:>8.2f} "
              f"{cell('cpu_us_per_entry', '.2f'):>9} {cell('cpu_cores_used', '.2f'):>6} "
              f"{cell('runq_cores_waiting', '.2f'):>6} {cell('entries_per_leader_fsync', '.1f'):>8} "
              f"{cell('wal_fraction', '.3f'):>8} {cell('latency_vs_floor', '.2f'):>8}"
              + (f"  FAILED: {r['first_failure']}" if r["failed"] else ""))
    print("baselines:", json.dumps(baselines))
    for name, target in result.items():
        print(f"target {name}: {target['value']:.3f} (target {target['target']}) "
              f"{'met' if target['met'] else 'NOT met'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster", action="append", default=[],
                        help="a directory of one cluster's node-<k>.json")
    parser.add_argument("--wal")
    parser.add_argument("--fsync")
    parser.add_argument("--rtt")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    rows = []
    for directory in args.cluster:
        rows += cluster_rows(directory)
    ceilings = wal_ceilings(args.wal)
    fsync_us = counter(args.fsync, "BM_Fsync/reactor_linked", "sync_us")
    rtt_us = counter(args.rtt, "BM_NetRtt/reactor/64", "rtt_us")
    floor_us = fsync_us + rtt_us if fsync_us and rtt_us else None
    add_ratios(rows, ceilings, floor_us)
    baselines = {"wal_durable_appends_per_s_at_1024": {str(k): round(v, 1) for k, v in ceilings.items()},
                 "fsync_us": fsync_us, "loopback_rtt_us": rtt_us, "commit_floor_us": floor_us}
    result = targets(rows)
    report = {"machine": machine(), "baselines": baselines, "targets": result, "rows": rows}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print_table(rows, baselines, result)
    print(f"wrote {args.out}")
    # A cell cut short by a leadership change (a starved machine can delay heartbeats past an
    # election timeout) is reported as FAILED with what it measured; a cell that committed
    # nothing means the benchmark is broken.
    return 0 if rows and all(r["committed"] > 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

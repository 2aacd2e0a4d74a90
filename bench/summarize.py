#!/usr/bin/env python3
"""Summarise a Google Benchmark JSON file from reactor_bench: a readable table and a compact JSON.

Every ringraft benchmark is named BM_<Group>/<variant>/<arguments> and pairs a reactor variant
with a baseline measured in the same run (BM_Echo/reactor/64/1 with BM_Echo/blocking/64/1). This
script prints each benchmark's key number in human units, then for each pair the ratio reactor ÷
baseline, and writes <input stem>.summary.json next to the input with the machine description
(nproc, kernel, CPU model, date), so that results from different machines can be told apart.

Some groups compare every variant with one fixed benchmark instead (GROUP_BASELINES): the WAL's
durable appends (BM_Wal/wal*/<entry bytes>/<in flight>) against the fsync ceiling
(pwrite(4 KiB)+fdatasync, appends/s) and against sequential writes (bytes/s: the fraction of the
disk's bandwidth).

With --benchmark_repetitions the median of the repetitions is used; aggregate rows that Google
Benchmark adds (_mean, _median, ...) are ignored and recomputed here.

    bench/summarize.py bench/results/reactor_bench.json
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys

# Variants that are ringraft's own, and the baselines they are compared with.
REACTOR_VARIANTS = ("reactor", "reactor_polling", "reactor_linked", "task_create_await", "core",
                    "engine")
BASELINE_VARIANTS = ("blocking", "mutex_queue", "raw", "function_call", "vector_push_back",
                     "wal_alone")
# Groups whose variants (those whose name starts with the prefix) are each compared with fixed
# benchmarks of the group, whatever their arguments: (prefix, [(baseline, metric), ...]).
GROUP_BASELINES = {
    "BM_Wal": ("wal", [("BM_Wal/pwrite_fdatasync/4096/1", "items_per_second"),
                       ("BM_Wal/pwrite_fdatasync_zeroed/4096/1", "items_per_second"),
                       ("BM_Wal/sequential_write/1048576/1", "bytes_per_second")]),
}
# Name suffixes Google Benchmark appends for run options; reactor_bench strips them itself, other
# runners may not.
RUN_OPTION_SUFFIX = re.compile(r"/(iterations:\d+|manual_time|real_time|process_time|"
                               r"min_time:[\d.]+|repeats:\d+|threads:\d+)")
NANOSECONDS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Per-benchmark counters worth showing beside the key rate, with their display unit.
DETAIL_COUNTERS = (("rtt_us", "us RTT"), ("ns_per_message", "ns/msg"), ("sync_us", "us/sync"),
                   ("p50_us", "us p50"), ("p99_us", "us p99"), ("p999_us", "us p999"),
                   ("entries_per_fsync", "entries/fsync"), ("room_waits", "room waits"),
                   ("cpu_ns_per_entry", "ns CPU/entry"))


def plain_name(name):
    return RUN_OPTION_SUFFIX.sub("", name)


def human(value, unit):
    """12345678, "/s" -> "12.35 M/s"; byte rates use binary prefixes."""
    if unit == "B/s":
        for prefix, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= scale:
                return f"{value / scale:.2f} {prefix}/s"
        return f"{value:.0f} B/s"
    if unit == "ns":
        for prefix, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
            if value >= scale:
                return f"{value / scale:.2f} {prefix}"
        return f"{value:.2f} ns"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.2f} {unit}"


def load_runs(path):
    """Iteration rows grouped by plain name, in registration order."""
    with open(path, encoding="utf-8") as source:
        document = json.load(source)
    runs = {}
    for row in document.get("benchmarks", []):
        if row.get("run_type", "iteration") != "iteration":
            continue
        runs.setdefault(plain_name(row.get("run_name", row["name"])), []).append(row)
    # Registration order (random interleaving reports them shuffled): pairs stay adjacent.
    def registration_order(item):
        first = item[1][0]
        return first.get("family_index", 0), first.get("per_family_instance_index", 0)
    return document.get("context", {}), dict(sorted(runs.items(), key=registration_order))


def summarize_benchmark(name, rows):
    """The key metric of one benchmark: items per second if it counts items, else time per op."""
    ok_rows = [row for row in rows if not row.get("error_occurred")]
    summary = {"name": name, "repetitions": len(rows)}
    if not ok_rows:
        summary["error"] = rows[0].get("error_message", "failed")
        return summary
    if "items_per_second" in ok_rows[0]:
        summary["metric"] = "items_per_second"
        summary["unit"] = "/s"
        summary["value"] = statistics.median(row["items_per_second"] for row in ok_rows)
        summary["higher_is_better"] = True
    else:
        summary["metric"] = "time_per_op"
        summary["unit"] = "ns"
        summary["value"] = statistics.median(
            row["real_time"] * NANOSECONDS_PER_UNIT[row.get("time_unit", "ns")] for row in ok_rows)
        summary["higher_is_better"] = False
    details = {}
    if "bytes_per_second" in ok_rows[0]:
        details["bytes_per_second"] = statistics.median(row["bytes_per_second"] for row in ok_rows)
    for counter, _ in DETAIL_COUNTERS:
        if counter in ok_rows[0]:
            details[counter] = statistics.median(row[counter] for row in ok_rows)
    for counter in sorted(ok_rows[0]):
        if counter.endswith(("_enters_per_op", "_cqes_per_enter")):
            details[counter] = statistics.median(row[counter] for row in ok_rows)
    if ok_rows[0].get("label"):
        details["label"] = ok_rows[0]["label"]
    summary["details"] = details
    return summary


def split_name(name):
    """"BM_Echo/reactor/64/1" -> ("BM_Echo", "reactor", "64/1")."""
    parts = name.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "", "/".join(parts[2:])


def pair_up(summaries):
    """Each reactor variant with the baseline of the same group and arguments, and each variant
    of a GROUP_BASELINES group with that group's fixed baselines."""
    by_key = {}
    by_name = {summary["name"]: summary for summary in summaries}
    pairs = []
    for summary in summaries:
        group, variant, arguments = split_name(summary["name"])
        by_key.setdefault((group, arguments), {})[variant] = summary
        prefix, baselines = GROUP_BASELINES.get(group, (None, []))
        if prefix is None or not variant.startswith(prefix):
            continue
        for baseline_name, metric in baselines:
            if baseline_name in by_name:
                pairs.append(make_pair(group, arguments, summary, by_name[baseline_name], metric))
    for (group, arguments), variants in by_key.items():
        baseline = next((variants[v] for v in BASELINE_VARIANTS if v in variants), None)
        if baseline is None:
            continue
        for reactor in (variants[v] for v in REACTOR_VARIANTS if v in variants):
            pairs.append(make_pair(group, arguments, reactor, baseline))
    return pairs


def metric_value(summary, metric):
    """The summary's value of `metric` (its key metric or a detail), or None."""
    if summary.get("metric") == metric:
        return summary.get("value")
    return summary.get("details", {}).get(metric)


def make_pair(group, arguments, reactor, baseline, metric=None):
    """One row of the ratio table: reactor ÷ baseline on `metric` (default: the reactor's key
    metric)."""
    pair = {"group": group, "arguments": arguments, "reactor": reactor["name"],
            "baseline": baseline["name"]}
    metric = metric or reactor.get("metric")
    reactor_value = metric_value(reactor, metric) if metric else None
    baseline_value = metric_value(baseline, metric) if metric else None
    if reactor_value is not None and baseline_value:
        pair["metric"] = metric
        pair["reactor_value"] = reactor_value
        pair["baseline_value"] = baseline_value
        pair["ratio"] = reactor_value / baseline_value
        pair["higher_is_better"] = metric != "time_per_op"
    return pair


def describe_machine(context):
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu_model": cpu_model,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host_name": context.get("host_name", platform.node()),
        "cpu_mhz": context.get("mhz_per_cpu"),
        "benchmark_run_date": context.get("date"),
        "benchmark_library_build_type": context.get("library_build_type"),
    }


def print_tables(summaries, pairs, machine, out):
    width = max([len(s["name"]) for s in summaries] + [9])
    out.write(f"{machine['cpu_model']} x {machine['nproc']}, Linux {machine['kernel']}, "
              f"{machine['date']}\n\n")
    out.write(f"{'benchmark':<{width}}  {'key number':>16}  details\n")
    for summary in summaries:
        if "error" in summary:
            out.write(f"{summary['name']:<{width}}  {'ERROR':>16}  {summary['error']}\n")
            continue
        key = human(summary["value"], summary["unit"])
        if summary["unit"] == "ns":
            key += "/op"
        details = summary["details"]
        shown = []
        if "bytes_per_second" in details:
            shown.append(human(details["bytes_per_second"], "B/s"))
        shown += [f"{details[c]:.2f} {label}" for c, label in DETAIL_COUNTERS if c in details]
        for prefix in sorted({c.rsplit("_", 3)[0] for c in details if c.endswith("_per_op")}):
            shown.append(f"{prefix} {details[prefix + '_enters_per_op']:.3f} enters/op "
                         f"{details[prefix + '_cqes_per_enter']:.1f} cqes/enter")
        if "label" in details:
            shown.append(details["label"])
        out.write(f"{summary['name']:<{width}}  {key:>16}  {', '.join(shown)}\n")

    labels = []
    for pair in pairs:
        group_and_arguments = pair["group"] + ("/" + pair["arguments"] if pair["arguments"] else "")
        labels.append(f"{group_and_arguments}: {split_name(pair['reactor'])[1]} ÷ "
                      f"{split_name(pair['baseline'])[1]}")
    units = {"items_per_second": ("/s", "rate; higher is better"),
             "bytes_per_second": ("B/s", "bandwidth; higher is better"),
             "time_per_op": ("ns", "time per op; lower is better")}
    label_width = max([len(label) for label in labels] + [4])
    out.write(f"\n{'pair':<{label_width}}  {'reactor':>14}  {'baseline':>14}  ratio\n")
    for pair, label in zip(pairs, labels):
        if "ratio" not in pair:
            out.write(f"{label:<{label_width}}  (a side failed)\n")
            continue
        unit, meaning = units.get(pair["metric"], ("", "higher is better"))
        out.write(f"{label:<{label_width}}  {human(pair['reactor_value'], unit):>14}  "
                  f"{human(pair['baseline_value'], unit):>14}  {pair['ratio']:.2f}x ({meaning})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", help="Google Benchmark output (--benchmark_out_format=json)")
    parser.add_argument("--summary", help="where to write the summary JSON "
                                          "(default: <input stem>.summary.json beside the input)")
    args = parser.parse_args()

    context, runs = load_runs(args.json)
    if not runs:
        sys.exit(f"{args.json}: no benchmark results in it")
    summaries = [summarize_benchmark(name, rows) for name, rows in runs.items()]
    pairs = pair_up(summaries)
    machine = describe_machine(context)
    print_tables(summaries, pairs, machine, sys.stdout)

    stem = args.json[:-len(".json")] if args.json.endswith(".json") else args.json
    summary_path = args.summary or stem + ".summary.json"
    with open(summary_path + ".tmp", "w", encoding="utf-8") as sink:
        json.dump({"machine": machine, "benchmarks": summaries, "pairs": pairs}, sink, indent=1)
        sink.write("\n")
    os.replace(summary_path + ".tmp", summary_path)
    print(f"\nsummary written to {summary_path}")
    return 1 if any("error" in s for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Turns a pytest-benchmark JSON file into the markdown table of bench/RESULTS.md.

    python -m pytest bench --benchmark-json=bench/results.json
    python bench/report.py bench/results.json > bench/RESULTS.md

Every group holds fastrank's row(s) and the rows it is compared with, timed in the same
run; the ratio is the other row's median time over fastrank's median time.
"""
from __future__ import annotations

import json
import os
import platform
import sys
from collections import defaultdict


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def main(path: str) -> None:
    data = json.load(open(path))
    groups = defaultdict(dict)
    traffic = {}  # group -> achieved GB/s of fastrank's row, where the group names its least traffic
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        groups[info["group"]][info["impl"]] = bench["stats"]["median"]
        if "min_bytes" in info and info["impl"] == "fastrank":
            traffic[info["group"]] = info["min_bytes"] / bench["stats"]["median"] / 1e9
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {}).get("brand_raw", platform.processor() or "unknown CPU")
    cores = machine.get("cpu", {}).get("count", "?")
    print("# Benchmark results\n")
    print(f"Device: CPU, {cpu}, {cores} cores ({machine.get('machine', platform.machine())}); "
          f"Python {machine.get('python_version', '?')}, torch {machine.get('torch_version', '?')}, "
          f"fastrank on {machine.get('fastrank_threads', '?')} threads; {data.get('datetime', '')[:10]}.")
    if "fastrank_cpu_target" in machine:
        print(f"CPU vector flags: {', '.join(machine.get('vector_flags', [])) or 'unknown'}; fastrank's kernels ran "
              f"their `{machine['fastrank_cpu_target']}` code; rows marked (avx2) or (baseline) ran that narrower "
              "code (`fastrank.set_cpu_target`) in the same run.")
    if "gpu" in machine:
        print(f"GPU: {machine['gpu']} (rows named CUDA ran there).")
    print("Each row is loss + gradient (forward and backward) unless it says otherwise; median of the rounds.")
    print("Reproduce: `python -m pytest bench --benchmark-json=bench/results.json && "
          "python bench/report.py bench/results.json > bench/RESULTS.md`.\n")
    print("| benchmark | fastrank | compared with | its time | fastrank is |")
    print("|---|---|---|---|---|")
    for group, rows in groups.items():
        ours = {k: v for k, v in rows.items() if k.startswith("fastrank")}
        others = {k: v for k, v in rows.items() if not k.startswith("fastrank")}
        for name, mine in ours.items():
            label = group if name == "fastrank" else f"{group} ({name.removeprefix('fastrank_')})"
            for other, theirs in others.items():
                ratio = theirs / mine
                verdict = f"{ratio:,.1f}× faster" if ratio >= 1 else f"{1 / ratio:,.2f}× the time"
                print(f"| {label} | {fmt_time(mine)} | {other} | {fmt_time(theirs)} | {verdict} |")
    for group, rate in traffic.items():
        print(f"\n{group}: fastrank moves its least memory traffic at {rate:,.0f} GB/s.")
    paired = os.path.join(os.path.dirname(os.path.abspath(path)), "paired_training_step.json")
    if os.path.exists(paired):
        result = json.load(open(paired))
        print(f"\nGCN predictor training step, batch 32 (NB201), in {result['rounds']} interleaved rounds of "
              f"{result['steps']} steps (`python bench/paired_training_step.py --json bench/paired_training_step.json`); "
              "ratio = median over rounds of other / fastrank:\n")
        print("| implementation | median step | ratio |")
        print("|---|---|---|")
        for name, ms in result["median_ms"].items():
            ratio = result["ratio_median"].get(name)
            print(f"| {name} | {fmt_time(ms / 1e3)} | {'-' if ratio is None else f'{ratio:.2f}×'} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json")

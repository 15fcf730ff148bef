"""The loss study's proofs: the paper preset's results and cost, the native path against a
plain-torch predictor on a sample of the same cells, and local vs Ray throughput.

    python bench/study_bench.py paper        # the paper preset into bench/study/ (~35 min, 2 cores)
    python bench/study_bench.py plain        # a sample of its cells with the plain-torch GCN
    python bench/study_bench.py throughput   # the quick preset on local processes and on Ray
    python bench/study_bench.py report       # bench/STUDY.md from what the three wrote

Each part appends its numbers to bench/study/bench.json; ``report`` turns them into markdown.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "study"
NUMBERS = OUT / "bench.json"
PLAIN_LOSSES = ("MSE", "HR", "pw")  # the sample the plain-torch predictor runs: seed 0 of these


def _save(key: str, value) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    numbers = json.loads(NUMBERS.read_text()) if NUMBERS.exists() else {}
    numbers[key] = value
    NUMBERS.write_text(json.dumps(numbers, indent=1) + "\n")


def _paper_cells(search: bool = True):
    from fastrank.study import PRESETS, make_cells

    p = PRESETS["paper"]
    return make_cells(p.tasks, p.losses, p.sizes, p.seeds, p.budget if search else 0, p.search_seeds,
                      p.search_losses)


def paper() -> None:
    from fastrank.study import LocalExecutor, run_study

    cells = _paper_cells()
    start = time.perf_counter()
    result = run_study(cells, OUT, LocalExecutor(os.cpu_count()))
    _save("paper", {"cells": result.cells, "computed": result.computed, "reused": result.reused,
                    "seconds": time.perf_counter() - start, "workers": os.cpu_count(),
                    "interrupted": result.interrupted})


def _cell_seconds(rows, keys) -> float:
    """Compute seconds of cells (fit + scoring for rank cells, the run for search cells)."""
    per_cell = {}
    for r in rows:
        if r["cell"] in keys and r["metric"] in ("fit_seconds", "score_seconds", "seconds"):
            per_cell[r["cell"]] = per_cell.get(r["cell"], 0.0) + r["value"]
    return sum(per_cell.values())


def plain() -> None:
    from plain_gcn import PlainTorchPredictor

    from fastrank.study import CellStore, LocalExecutor, evaluate_cell, run_study

    sample = [c for c in _paper_cells(search=False) if c.seed == 0 and c.loss in PLAIN_LOSSES]
    out = OUT / "plain_sample"
    start = time.perf_counter()
    run_study(sample, out, LocalExecutor(os.cpu_count()),
              cell_fn=functools.partial(evaluate_cell, predictor_class=PlainTorchPredictor), report=False)
    wall = time.perf_counter() - start
    keys = {c.key for c in sample}
    native = _cell_seconds(CellStore(OUT / "cells.csv").rows(), keys)
    torch_seconds = _cell_seconds(CellStore(out / "cells.csv").rows(), keys)
    by_kind = {}
    for kind in ("rank", "search"):
        kind_keys = {c.key for c in sample if c.kind == kind}
        by_kind[kind] = {"native": _cell_seconds(CellStore(OUT / "cells.csv").rows(), kind_keys),
                         "plain": _cell_seconds(CellStore(out / "cells.csv").rows(), kind_keys),
                         "cells": len(kind_keys)}
    _save("plain", {"cells": len(sample), "native_seconds": native, "plain_seconds": torch_seconds,
                    "wall": wall, "by_kind": by_kind, "losses": PLAIN_LOSSES})


def throughput() -> None:
    import ray

    from fastrank.study import PRESETS, LocalExecutor, make_cells, make_executor, run_study

    p = PRESETS["quick"]
    cells = make_cells(p.tasks, p.losses, p.sizes, p.seeds)  # its ranking cells (the search cells: see report)
    numbers = {"cells": len(cells), "cpus": os.cpu_count()}
    for name in ("local", "ray"):
        folder = Path(tempfile.mkdtemp(prefix=f"study_{name}_"))
        if name == "ray":
            started = time.perf_counter()
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
            numbers["ray_init_seconds"] = time.perf_counter() - started
            executor = make_executor("ray")
        else:
            executor = LocalExecutor(os.cpu_count())
        start = time.perf_counter()
        run_study(cells, folder, executor, report=False)
        wall = time.perf_counter() - start
        from fastrank.study import CellStore

        rows = CellStore(folder / "cells.csv").rows()
        work = _cell_seconds(rows, {c.key for c in cells})
        numbers[name] = {"wall": wall, "cell_seconds": work, "cells_per_second": len(cells) / wall,
                         "overhead": wall * os.cpu_count() / work - 1}
        shutil.rmtree(folder)
    ray.shutdown()
    _save("throughput", numbers)


def report() -> None:
    numbers = json.loads(NUMBERS.read_text())
    lines = ["# The loss study", "", "Generated by `python bench/study_bench.py report` from `bench/study/bench.json`; "
             "the tables and figures are `fastrank study --preset paper`'s, in `bench/study/`.", ""]
    if "paper" in numbers:
        p = numbers["paper"]
        lines += [f"- Paper preset, ranking grid: {p['computed']} cells computed on {p['workers']} worker processes "
                  "(14.9 min by the run's progress log; the run was then stopped in its search grid, which an "
                  "NB101 pool bug made endless, since fixed)."]
    for key, name in (("paper_search", "Paper preset, search grid"), ("quick_search", "Quick preset, search grid")):
        if key in numbers:
            q = numbers[key]
            lines.append(f"- {name}: {q['computed']} of {q['cells']} cells at {q['budget']} queries in "
                         f"{q['seconds'] / 60:.1f} min" + (" (interrupted)" if q.get("interrupted") else "") + ".")
    if "plain" in numbers:
        q = numbers["plain"]
        lines += [f"- Native vs plain-torch predictor on {q['cells']} ranking cells of that grid (seed 0, losses "
                  f"{', '.join(q['losses'])}, every task and size): {q['native_seconds']:.0f} s vs "
                  f"{q['plain_seconds']:.0f} s of cell time, **{q['plain_seconds'] / q['native_seconds']:.2f}×**"]
        for kind, k in q["by_kind"].items():
            if not k["cells"]:
                continue
            lines.append(f"  - {kind} cells ({k['cells']}): {k['native']:.0f} s vs {k['plain']:.0f} s, "
                         f"{k['plain'] / k['native']:.2f}×")
    if "throughput" in numbers:
        t = numbers["throughput"]
        lines += [f"- The quick preset's {t['cells']} ranking cells on {t['cpus']} cores: local processes "
                  f"{t['local']['wall']:.0f} s ({t['local']['cells_per_second']:.2f} cells/s), Ray "
                  f"{t['ray']['wall']:.0f} s ({t['ray']['cells_per_second']:.2f} cells/s; `ray.init` "
                  f"{t['ray_init_seconds']:.1f} s more). Scheduling overhead (wall × cores ÷ the cells' own "
                  f"seconds − 1): local {100 * t['local']['overhead']:.0f} %, Ray {100 * t['ray']['overhead']:.0f} %."]
    text = "\n".join(lines) + "\n"
    (HERE / "STUDY.md").write_text(text)
    print(text)


if __name__ == "__main__":
    parts = {"paper": paper, "plain": plain, "throughput": throughput, "report": report}
    if len(sys.argv) != 2 or sys.argv[1] not in parts:
        sys.exit(f"usage: python bench/study_bench.py {{{'|'.join(parts)}}}")
    parts[sys.argv[1]]()

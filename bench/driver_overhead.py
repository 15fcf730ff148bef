"""The ask/tell driver's cost on a table search against the loop-based search it replaced
(commit 01b91e3), in interleaved rounds: each round runs one subprocess per code base, in
alternating order, each timing the same NB201 search (predictor + pw, test protocol, budget
100, seed 0, one thread) after a warm-up run.

    PYTHONPATH=python python bench/driver_overhead.py --old /path/to/checkout-of-01b91e3 [--rounds 5]

The old checkout needs the compiled extension beside its sources (python/fastrank/_C*.so, e.g.
a symlink to the installed one: the native code did not change).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from published import PUBLISHED_PREDICTOR  # noqa: E402

TIMED = r"""
import json, time, torch, fastrank
from fastrank import search
torch.set_num_threads(1); fastrank.set_num_threads(1)
run = lambda: search.run("nb201/cifar10", strategy="predictor", budget=100, seed=0, protocol="test",
                         **{options})  # as the old loop ran
first = run()
times = []
for _ in range({repeats}):
    start = time.perf_counter(); r = run(); times.append(time.perf_counter() - start)
    assert r.arch_string == first.arch_string
print(json.dumps({{"times": times, "arch": first.arch_string, "file": fastrank.__file__}}))
"""


def timed(python_dir: Path, repeats: int) -> dict:
    code = TIMED.format(repeats=repeats, options=repr(PUBLISHED_PREDICTOR))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(python_dir), "PATH": "/usr/bin:/bin"}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of the loop-based search")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    new_dir, old_dir = Path(__file__).resolve().parents[1] / "python", args.old.resolve() / "python"
    ratios, medians = [], {"driver": [], "loop": []}
    for r in range(args.rounds):
        order = [("driver", new_dir), ("loop", old_dir)] if r % 2 == 0 else [("loop", old_dir), ("driver", new_dir)]
        got = {name: timed(path, args.repeats) for name, path in order}
        assert got["driver"]["arch"] == got["loop"]["arch"], "the two searches found different cells"
        for name in got:
            medians[name].append(statistics.median(got[name]["times"]))
        ratios.append(medians["driver"][-1] / medians["loop"][-1])
        print(f"round {r}: driver {medians['driver'][-1]:.3f} s, loop {medians['loop'][-1]:.3f} s, "
              f"ratio {ratios[-1]:.3f}", flush=True)
    print(f"median: driver {statistics.median(medians['driver']):.3f} s, loop {statistics.median(medians['loop']):.3f} s;"
          f" median ratio driver/loop {statistics.median(ratios):.3f} over {args.rounds} rounds")


if __name__ == "__main__":
    main()

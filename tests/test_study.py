"""The loss study: grid, cells, resumable store, executors (local and Ray), report, command."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fastrank import nn, study
from fastrank.study import Cell, CellStore, LocalExecutor, evaluate_cell, make_cells, run_study

TIMES = {"fit_seconds", "score_seconds", "seconds"}


def values_by_cell(path: Path) -> dict:
    """(cell, metric) -> value, without the timings (which differ run to run)."""
    return {(r["cell"], r["metric"]): r["value"] for r in CellStore(path).rows() if r["metric"] not in TIMES}


def small_grid(losses=("MSE", "HR")):
    return make_cells(["nb201/cifar10", "tnb101_micro/jigsaw"], list(losses), [20], [0, 1])


def test_presets_and_cells():
    quick, paper = study.PRESETS["quick"], study.PRESETS["paper"]
    assert len(quick.tasks) == len(paper.tasks) == 13 and set(study.PAPER_LOSSES) <= set(paper.losses)
    cells = make_cells(*[list(x) for x in (quick.tasks, quick.losses, quick.sizes, quick.seeds)], quick.budget,
                       quick.search_seeds, quick.search_losses)
    assert len({c.key for c in cells}) == len(cells) == 13 * 8 * 2 + 13 * 9
    assert Cell("rank", "nb101", "HR", 20, 3).key == "rank|nb101|HR|20|3"


def test_a_rank_cell_reports_every_metric_and_pairs_the_losses():
    a = dict(evaluate_cell(Cell("rank", "nb201/cifar100", "MSE", 20, 0)))
    assert set(a) == set(study.RANK_METRICS)
    assert -1 <= a["kendall_tau"] <= 1 and 0 <= a["precision@1%"] <= 1 and a["n@10"] >= 1 and a["regret@1"] >= 0
    b = dict(evaluate_cell(Cell("rank", "nb201/cifar100", "MSE", 20, 0)))
    assert {k: v for k, v in a.items() if k not in TIMES} == {k: v for k, v in b.items() if k not in TIMES}
    search = dict(evaluate_cell(Cell("search", "nb201/cifar100", "HR", 20, 0)))
    assert {"final_value", "regret", "rank", "best@10", "best@20"} <= set(search)
    assert search["best@10"] <= search["best@20"] == search["final_value"]


def test_study_writes_tidy_rows_tables_figures_and_resumes(tmp_path):
    cells = small_grid() + make_cells(["nb201/cifar10"], ["HR"], [20], [0], budget=10, search_seeds=[0],
                                      search_losses=["HR"])[1:]
    first = run_study(cells, tmp_path, LocalExecutor(1), progress=False)
    assert (first.computed, first.reused, first.interrupted) == (len(cells), 0, False)
    rows = CellStore(tmp_path / "cells.csv").rows()
    assert len(rows) == 8 * len(study.RANK_METRICS) + 4 + 1  # search: final, regret, rank, seconds, best@10
    assert {p.name for p in first.files} == {"tables.md", "heatmap_kendall_tau.png", "heatmap_n10.png",
                                             "search_best_found.png"}
    text = (tmp_path / "tables.md").read_text()
    assert "| MSE |" in text and "nb201/cifar10" in text and "Search:" in text
    again = run_study(cells, tmp_path, LocalExecutor(1), progress=False)
    assert (again.computed, again.reused) == (0, len(cells))
    assert len(CellStore(tmp_path / "cells.csv").rows()) == len(rows)


@pytest.mark.slow
def test_an_interrupted_study_keeps_finished_cells_and_finishes_later(tmp_path):
    cells = small_grid()
    calls = []

    def stop_after_three(cell, loss):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(cell)
        return evaluate_cell(cell, loss)

    partial = run_study(cells, tmp_path / "a", LocalExecutor(1), cell_fn=stop_after_three, progress=False)
    assert partial.interrupted and partial.computed == 3
    rest = run_study(cells, tmp_path / "a", LocalExecutor(1), progress=False)
    assert (rest.computed, rest.reused) == (len(cells) - 3, 3)
    whole = run_study(cells, tmp_path / "b", LocalExecutor(1), progress=False)
    assert whole.computed == len(cells)
    assert values_by_cell(tmp_path / "a" / "cells.csv") == values_by_cell(tmp_path / "b" / "cells.csv")


def test_a_torn_last_row_is_cut_and_its_cell_recomputed(tmp_path):
    cells = small_grid()[:2]
    run_study(cells, tmp_path, LocalExecutor(1), progress=False, report=False)
    path = tmp_path / "cells.csv"
    with open(path, "a") as handle:  # what a write cut by a crash would leave
        handle.write("rank,nb201/cifar10,LR,20,0,kendall_tau,0.5,rank|nb201/cif")
    store = CellStore(path)
    assert path.read_text().endswith("\n") and len(store.finished) == 2
    with open(path, "w") as handle:
        handle.write("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a fastrank study file"):
        CellStore(path)


@pytest.mark.slow
def test_local_processes_match_one_process(tmp_path):
    cells = small_grid()
    run_study(cells, tmp_path / "one", LocalExecutor(1), progress=False, report=False)
    run_study(cells, tmp_path / "two", LocalExecutor(2), progress=False, report=False, batch_seconds=0.1)
    assert values_by_cell(tmp_path / "one" / "cells.csv") == values_by_cell(tmp_path / "two" / "cells.csv")


def _shifted_mse(scores, targets, *, group_sizes=None, mask=None, reduction="mean", shift=0.0):
    return torch.nn.functional.mse_loss(scores + shift, targets, reduction=reduction)


@pytest.mark.slow
def test_user_registered_losses_and_bad_grids(tmp_path):
    if "ShiftedMSE" not in nn.LOSSES:
        nn.register_loss("ShiftedMSE", _shifted_mse, family="regression")
    with pytest.raises(ValueError, match="already"):
        nn.register_loss("mse", _shifted_mse)
    with pytest.raises(TypeError, match="missing"):
        nn.register_loss("Bad", lambda s, t: s.sum())
    cells = make_cells(["nb201/cifar10"], ["ShiftedMSE", "MSE", "sum:MSE=1,ShiftedMSE=1", "pw:HR,MAPE@30"],
                       [20], [0])
    run_study(cells, tmp_path, LocalExecutor(2), progress=False, report=False, batch_seconds=0.1)
    values = values_by_cell(tmp_path / "cells.csv")
    tau = {cell.loss: values[(cell.key, "kendall_tau")] for cell in cells}
    assert tau["ShiftedMSE"] == tau["MSE"]  # a shift the z-scored targets do not see... same training
    with pytest.raises(ValueError, match="nothing to rank"):
        run_study(make_cells(["nb101"], ["MSE"], [500], [0]), tmp_path / "x", LocalExecutor(1), progress=False)
    with pytest.raises(ValueError, match="unknown loss"):
        run_study(make_cells(["nb101"], ["NOPE"], [20], [0]), tmp_path / "x", LocalExecutor(1), progress=False)
    with pytest.raises(ValueError, match="task 'nb999'"):
        run_study(make_cells(["nb999"], ["MSE"], [20], [0]), tmp_path / "x", LocalExecutor(1), progress=False)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    from ray import cloudpickle

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import tests/
    yield
    ray.shutdown()


def _die_once(cell, loss, marker=None):
    """Kills its worker the first time it meets the marked cell; the task is retried."""
    if marker is not None and cell.key.endswith("|HR|20|1") and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)
    return evaluate_cell(cell, loss)


@pytest.mark.slow
def test_ray_matches_local_and_survives_a_killed_worker(tmp_path, ray_cluster):
    cells = small_grid()
    run_study(cells, tmp_path / "local", LocalExecutor(1), progress=False, report=False)
    executor = study.make_executor("ray")
    run_study(cells, tmp_path / "ray", executor, progress=False, report=False, batch_seconds=0.3)
    expected = values_by_cell(tmp_path / "local" / "cells.csv")
    assert values_by_cell(tmp_path / "ray" / "cells.csv") == expected
    marker = str(tmp_path / "died")

    def die_once(cell, loss):
        return _die_once(cell, loss, marker)

    result = run_study(cells, tmp_path / "killed", executor, cell_fn=die_once, progress=False, report=False,
                       batch_seconds=0.3)
    assert os.path.exists(marker) and result.computed == len(cells)  # a worker died; its batch ran again
    assert values_by_cell(tmp_path / "killed" / "cells.csv") == expected


@pytest.mark.slow
def test_study_command_usage_errors(tmp_path):
    def fastrank(*args):
        return subprocess.run([sys.executable, "-m", "fastrank", "study", *args, "--quiet"], capture_output=True,
                              text=True, timeout=300)

    for args, message in ((("--tasks", "nb999"), "unknown task"), (("--losses", "MSE,NOPE"), "unknown loss"),
                          (("--executor", "slurm"), "invalid choice"), (("--address", "x:1"), "only with"),
                          (("--tasks", "nb101", "--sizes", "600"), "nothing to rank"),
                          (("--sizes", "0"), "positive")):
        done = fastrank(*args, "--out", str(tmp_path))
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    done = fastrank("--tasks", "nb201/cifar10", "--losses", "MSE,sum:MSE=1;HR=1", "--sizes", "20", "--budget", "0",
                    "--workers", "1", "--out", str(tmp_path / "ok"))
    assert done.returncode == 0, done.stderr
    assert "2 cells computed" in done.stdout and (tmp_path / "ok" / "tables.md").exists()

"""Spaces of your own: CellSpace and ChainSpace declared, and a SearchSpace subclass
(tests/user_space.py), each searched by every strategy that takes its shape."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import user_space
from fastrank import search
from fastrank.spaces import CellSpace, ChainSpace, InvalidArchitecture, NASBench201, get_space

RNG = np.random.default_rng(0)
TESTS = Path(__file__).parent


def test_cell_space_with_nb201_ops_is_nb201():
    cell, nb201 = CellSpace(nodes=4, ops=NASBench201.ops), NASBench201()
    assert cell.size == nb201.size and cell.max_nodes == nb201.max_nodes
    for arch in nb201.sample_many(40, RNG):
        text = nb201.to_string(arch)
        assert cell.to_string(arch) == text and cell.parse(text) == arch
        assert cell.encode(arch) == nb201.encode(arch)
        a, b = cell.graph(arch), nb201.graph(arch)
        assert np.array_equal(a.ops, b.ops) and np.array_equal(a.adjacency, b.adjacency)


@pytest.mark.parametrize("nodes", [2, 3, 5])
def test_cell_space_round_trips(nodes):
    space = CellSpace(nodes=nodes, ops=["none", "skip", "conv3x3"])
    assert space.size == 3 ** (nodes * (nodes - 1) // 2)
    for arch in space.sample_many(10, RNG, unique=False):
        assert space.parse(space.to_string(arch)) == arch
        assert space.decode(space.encode(arch)) == arch
        assert all(space.parse(space.to_string(n)) == n for n in space.neighbours(arch))
        graph = space.graph(arch)
        assert graph.ops.shape == (space.max_nodes,) and np.triu(graph.adjacency, 1).sum() == graph.adjacency.sum()


@pytest.mark.parametrize("kwargs, message", [
    (dict(nodes=1), "at least 2 nodes"),
    (dict(ops=[]), "at least one operation"),
    (dict(ops=["a", "a"]), "repeat"),
    (dict(ops=["conv 3x3"]), "letters, digits and underscores"),
    (dict(ops="conv3x3"), "list of operation names"),
    (dict(ops={"mine": 3}), "not callable"),
])
def test_cell_space_refuses_bad_declarations(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        CellSpace(**kwargs)


def test_cell_space_refuses_foreign_strings():
    space = CellSpace(nodes=3, ops=["skip", "conv3x3"])
    for text in ["|skip~0|+|skip~0|", "|skip~0|+|skip~0|pool~1|", "|skip~1|+|skip~0|skip~1|", 3]:
        with pytest.raises(InvalidArchitecture):
            space.parse(text)


def test_cell_space_builds_with_the_users_constructors():
    built = []

    def gated(c):
        built.append(c)
        return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.Sigmoid())

    space = CellSpace(nodes=3, ops={"gated": gated, "skip": lambda c: nn.Identity()})
    model = space.to_module(space.parse("|gated~0|+|skip~0|gated~1|"), channels=4, cells_per_stage=1)
    assert built == [4, 4, 8, 8, 16, 16]  # two gated edges per cell, one cell per stage
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    unknown = CellSpace(nodes=3, ops=["skip", "mystery"])
    with pytest.raises(ValueError, match="no constructor for operation.*mystery"):
        unknown.to_module(unknown.sample(RNG))


def test_chain_space_round_trips_and_builds():
    space = ChainSpace(layers=6, choices=["identity", "conv3x3", "sep_conv5x5"])
    assert space.size == 3 ** 6 and space.max_nodes == 8
    for arch in space.sample_many(10, RNG):
        assert space.parse(space.to_string(arch)) == arch and space.decode(space.encode(arch)) == arch
    model = space.to_module((2, 1, 1, 0, 0, 2), channels=4, in_channels=1, image_size=8, num_classes=3)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    with pytest.raises(InvalidArchitecture, match="unknown block"):
        space.parse("identity,conv3x3,conv3x3,conv3x3,conv3x3,conv7x7")
    with pytest.raises(ValueError, match="6 stages need at least 6 layers|7 stages"):
        space.to_module((0,) * 6, stages=7, image_size=64)


def test_chain_space_uses_the_users_blocks():
    space = ChainSpace(layers=3, choices={"wide": lambda i, o, s: nn.Conv2d(i, o, 3, s, 1),
                                          "thin": lambda i, o, s: nn.Conv2d(i, o, 1, s)})
    model = space.to_module(space.parse("wide,thin,wide"), channels=4, stages=2)
    assert [m.kernel_size for m in model.layers] == [(3, 3), (1, 1), (3, 3)]
    assert [m.stride for m in model.layers] == [(1, 1), (2, 2), (1, 1)]  # stage 2 opens at layer 2 of 3


def _score(space):
    weights = np.random.default_rng(11).normal(size=(64, 16))

    def evaluate(arch):  # a smooth synthetic objective over the graph form
        g = space.graph(arch)
        return float(weights[g.ops % 64, np.arange(len(g.ops)) % 16].sum() + g.adjacency.sum() * 0.01)

    return evaluate


SPACES_TO_SEARCH = {
    "cell": CellSpace(nodes=5, ops=["none", "skip", "conv1x1", "conv3x3"]),
    "chain": ChainSpace(layers=6, choices=["identity", "conv3x3", "sep_conv3x3"]),
    "knobs": user_space.KnobSpace(),
}


@pytest.mark.parametrize("strategy", search.BUILT_IN_STRATEGIES)
# the cell space lists its 4^10 cells as the pool: seconds per search, so outside the quick loop
@pytest.mark.parametrize("space_name", [pytest.param(n, marks=pytest.mark.slow) if n == "cell" else n
                                        for n in sorted(SPACES_TO_SEARCH)])
def test_every_strategy_searches_declared_and_custom_spaces(strategy, space_name):
    space = SPACES_TO_SEARCH[space_name]
    cls = search.get_strategy(strategy)
    try:
        cls.check_space(space)
    except ValueError:
        assert strategy.startswith("proxy-validation") and space_name != "cell"  # the relaxation takes cells only
        return
    options = dict(predictor={"epochs": 3, "width": 8}) if cls.takes_loss else {}
    if strategy == "acenas":  # its pretraining needs weak labels, which a benchmark table brings
        with pytest.raises(ValueError, match="weak labels given by name need a benchmark"):
            search.run(_score(space), strategy=strategy, space=space, budget=12, seed=1, **options)
        return
    result = search.run(_score(space), strategy=strategy, space=space, budget=12, seed=1, **options)
    assert len(result.queries) == 12
    assert len({space.identity(q.arch) for q in result.queries}) == 12
    assert result.query_value == max(q.value for q in result.queries)


def test_registered_space_is_found_by_name():
    assert isinstance(get_space("knobs"), user_space.KnobSpace)


@pytest.mark.slow
def test_custom_space_searches_from_the_command_line(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "fastrank", "search", "--import", "user_space", "--space", "knobs",
                           "--objective", "user_space:score", "--strategy", "evolution", "--budget", "10", "--quiet",
                           "--out", str(out)], capture_output=True, text=True, cwd=TESTS, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "objective     score on knobs" in done.stdout
    program = torch.export.load(str(out / "model.pt2"))
    assert program.module()(torch.randn(3, 3, 32, 32)).shape == (3, 10)


def test_drawing_more_distinct_architectures_than_a_small_space_holds_stops_with_an_error():
    space = user_space.KnobSpace()  # 24 architectures, not enumerated: sample_many cannot know
    assert len(space.sample_many(24, np.random.default_rng(0))) == 24
    with pytest.raises(ValueError, match="fewer than 25"):
        space.sample_many(25, np.random.default_rng(0))


def test_the_loss_study_runs_on_a_declared_space(tmp_path):
    """A table of a user's CellSpace, declared as a benchmark family (one register_family),
    goes through the study's ranking and search cells like a packaged benchmark."""
    from fastrank import benchmarks
    from fastrank.spaces import SPACES, register_space
    from fastrank.study import CellStore, LocalExecutor, make_cells, run_study

    saved_families, saved_spaces = dict(benchmarks.FAMILIES), dict(SPACES)
    space = CellSpace(nodes=4, ops=["none", "skip", "conv3x3"], name="study_cells")
    archs = [space.decode(i) for i in range(space.size)]
    values = np.array([_score(space)(a) for a in archs])

    def load_cells(part="", path=None):
        return benchmarks.TabularBenchmark("study_cells", space, "score", archs, values, source="test")

    try:
        register_space("study_cells", lambda: space)
        benchmarks.register_family(benchmarks.Family("study_cells", load_cells, space="study_cells", size=space.size,
                                                     weak_labels=(), source=benchmarks.CsvTable("study_cells.csv",
                                                                                                rows=space.size),
                                                     target="score"))
        cells = make_cells(["study_cells"], ["MSE", "HR"], [30], [0], budget=12, search_seeds=[0],
                           search_losses=["HR"])
        result = run_study(cells, tmp_path, LocalExecutor(1), progress=False)
        assert (result.computed, result.interrupted) == (len(cells), False)
        rows = CellStore(tmp_path / "cells.csv").rows()
        tau = [float(r["value"]) for r in rows if r["metric"] == "kendall_tau"]
        assert len(tau) == 2 and all(-1 <= t <= 1 for t in tau)
        assert "study_cells" in (tmp_path / "tables.md").read_text()
    finally:
        benchmarks.FAMILIES.clear()
        benchmarks.FAMILIES.update(saved_families)
        SPACES.clear()
        SPACES.update(saved_spaces)

"""The peers' harness (bench/search_peers.py) looks a NAS-Bench-Graph proposal up the way the
benchmark does: an equivalent wiring is the listed architecture, never a nearby one."""
import itertools
import sys
from pathlib import Path

import pytest

pytest.importorskip("nas_bench_graph")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fastrank.spaces import NASBench201  # noqa: E402
from fastrank.spaces.nasbench_graph import NASBenchGraph  # noqa: E402
from search_peers import equivalent_listing  # noqa: E402


def test_a_nasbench_graph_proposal_is_its_listed_equivalent():
    space = NASBenchGraph()
    listed = equivalent_listing(space)
    rows = [space.decode(code) for code in range(space.size)]
    assert all(listed(arch) == arch for arch in rows)  # a listed architecture is itself
    gat, gcn, gin, sage, skip = (space.ops.index(o) for o in ("gat", "gcn", "gin", "sage", "skip"))
    # link 0: four branches read the input; their order does not matter
    assert listed((0, gin, gat, sage, gcn)) == (0, gat, gcn, gin, sage)
    reached = {listed(t) for t in itertools.product(range(len(space.ops)), repeat=5)} - {None}
    assert reached == set(rows)  # every (link, ops) but the all-skip ones is one listed architecture
    assert listed((3, skip, skip, skip, skip)) is None


def test_other_spaces_have_no_equivalent_listing():
    assert equivalent_listing(NASBench201()) is None

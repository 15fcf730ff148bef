"""Search spaces: strings, codes, sampling, mutation, graph form, native batched encoding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fastrank.graph import encode, encode_architectures, encode_codes
import importlib.util

from fastrank.spaces import BUILT_IN_SPACES, InvalidArchitecture, NASBenchGraph, get_space

ENUMERABLE = ["nb201", "tnb101_micro", "tnb101_macro", "nasbench_macro"]
HAS_NBG = importlib.util.find_spec("nas_bench_graph") is not None
ALL_SPACES = [pytest.param(n, marks=pytest.mark.skipif(n == "nasbench_graph" and not HAS_NBG,
                                                       reason="nas-bench-graph not installed")) for n in BUILT_IN_SPACES]


@pytest.mark.parametrize("name", ALL_SPACES)
def test_sample_roundtrip_mutate(name):
    space = get_space(name)
    rng = np.random.default_rng(0)
    archs = space.sample_many(30, rng)
    assert len({space.identity(a) for a in archs}) == 30
    for arch in archs:
        assert space.parse(space.to_string(arch)) == arch
        assert space.check(arch) == arch
        neighbours = space.neighbours(arch)
        assert neighbours and arch not in neighbours
        assert all(space.parse(space.to_string(n)) == n for n in neighbours)
        assert space.mutate(arch, rng) in neighbours
        g = space.graph(arch)
        n = g.ops.shape[0]
        assert n <= space.max_nodes and g.adjacency.shape == (n, n)
        assert not np.tril(g.adjacency).any(), "graph must be a DAG in node order"
        assert g.ops.min() >= 0 and g.ops.max() < len(space.node_ops)


@pytest.mark.parametrize("name", ENUMERABLE)
def test_codes_are_a_bijection(name):
    space = get_space(name)
    codes = np.arange(space.size)
    archs = [space.decode(int(c)) for c in codes]
    assert len(set(archs)) == space.size
    assert [space.encode(a) for a in archs] == list(codes)
    with pytest.raises(ValueError, match="outside"):
        space.decode(space.size)
    with pytest.raises(TypeError):
        space.decode(1.5)


@pytest.mark.parametrize("name", ENUMERABLE)
def test_native_encoding_equals_python_graph_form(name):
    space = get_space(name)
    codes = torch.arange(space.size)
    native = encode_codes(space, codes, torch.float64)
    python = encode_architectures(space, [space.decode(int(c)) for c in codes], torch.float64)
    for a, b in zip(native, python):
        assert torch.equal(a, b)
    adjacency, ops, mask = encode(space, np.array([0, space.size - 1]))
    assert adjacency.dtype == torch.float32 and ops.shape == (2, space.max_nodes) and mask.dtype == torch.bool


def test_native_encoding_rejects_bad_codes():
    space = get_space("nb201")
    with pytest.raises(ValueError, match="codes must lie in 0..15624"):
        encode_codes(space, [0, 15625])
    with pytest.raises(TypeError, match="integers"):
        encode_codes(space, torch.tensor([0.5]))
    with pytest.raises(TypeError, match="no native encoder"):
        encode_codes(get_space("darts"), [0])


def test_nb201_graph_form():
    space = get_space("nb201")
    arch = space.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    assert arch == (3, 0, 1, 4, 2, 0)
    g = space.graph(arch)
    assert g.ops.tolist() == [0, 5, 2, 3, 6, 4, 2, 1]
    # edge 0->1 (node 1) feeds the edges leaving node 1: 1->2 (node 3) and 1->3 (node 5)
    assert np.flatnonzero(g.adjacency[1]).tolist() == [3, 5]
    # edges into cell node 3 (nodes 4, 5, 6) feed the output; edges from 0 read the input
    assert np.flatnonzero(g.adjacency[:, 7]).tolist() == [4, 5, 6]
    assert np.flatnonzero(g.adjacency[0]).tolist() == [1, 2, 4]


@pytest.mark.parametrize("name,text,message", [
    ("nb201", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown NB201 operation"),
    ("nb201", "|none~0|+|none~0|", "not an NB201 string"),
    ("tnb101_micro", "64-41414-4_00_000", "not a TransNAS micro string"),
    ("tnb101_macro", "64-1111-basic", "1-4 stride-2"),
    ("tnb101_macro", "64-12-basic", "not a TransNAS macro string"),
    ("nasbench_macro", "0123", "not a NAS-Bench-Macro string"),
    ("nb101", "0" * 49 + ";input,output", "7 nodes"),
    ("nb101", "0" * 49 + ";input,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,output",
     "no path from input to output"),
    ("darts", " ".join(["sep_conv_3x3~0", "sep_conv_3x3~1"] * 4) + "|x", "bad DARTS entry"),
    ("darts", "sep_conv_3x3~0 sep_conv_3x3~1|sep_conv_3x3~0", "8 \\(op, input\\) pairs"),
    ("darts", " ".join(["sep_conv_3x3~0"] * 8) + "|" + " ".join(["sep_conv_3x3~0"] * 8), "reads node 0 twice"),
    ("darts", " ".join(["sep_conv_3x3~0", "sep_conv_3x3~2"] * 4) + "|x", "cannot read node 2"),
])
def test_invalid_strings_say_what_is_wrong(name, text, message):
    with pytest.raises(InvalidArchitecture, match=message):
        get_space(name).parse(text)


def test_nb101_identity_is_isomorphism_aware():
    space = get_space("nb101")
    ops = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "output"]
    m = np.zeros((7, 7), dtype=int)
    # input -> 1 -> 3 -> output and input -> 2 -> output, nodes 4, 5 dangling
    m[0, 1] = m[1, 3] = m[3, 6] = m[0, 2] = m[2, 6] = 1
    a = space.make(m, ops)
    # the same cell with the two branches' node order swapped and another dangling node
    swapped = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"]
    p = np.zeros((7, 7), dtype=int)
    p[0, 2] = p[2, 4] = p[4, 6] = p[0, 1] = p[1, 6] = p[3, 5] = 1
    b = space.make(p, swapped)
    assert a != b and space.identity(a) == space.identity(b)
    changed = list(ops)
    changed[1] = "conv1x1-bn-relu"
    assert space.identity(space.make(m, changed)) != space.identity(a)
    with pytest.raises(InvalidArchitecture, match="at most 9"):
        space.make(np.triu(np.ones((7, 7), dtype=int), 1), ops)


@pytest.mark.skipif(not HAS_NBG, reason="nas-bench-graph not installed")
def test_nasbench_graph_space():
    space = NASBenchGraph()
    assert space.size == 26206
    arch = space.parse("0,1,2,3|gcn,gat,gat,gin")
    assert space.hash(arch) == (((8 * 10 + 1) * 10 + 0) * 10 + 0) * 10 + 2
    g = space.graph(arch)
    # a chain: input -> gcn -> gat -> gat -> gin -> output
    assert g.ops.tolist() == [0, 3, 2, 2, 4, 1]
    assert [tuple(e) for e in np.argwhere(g.adjacency)] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert [space.decode(space.encode(a)) for a in space.neighbours(arch)] == space.neighbours(arch)
    with pytest.raises(InvalidArchitecture, match="canonical NAS-Bench-Graph links"):
        space.parse("0,0,0,2|gcn,gcn,gcn,gcn")
    with pytest.raises(InvalidArchitecture, match="unknown NAS-Bench-Graph operation"):
        space.parse("0,1,2,3|gcn,gat,skip,mlp")
    with pytest.raises(InvalidArchitecture, match="equivalent wirings are listed once"):
        space.parse("0,1,2,3|gcn,gat,skip,fc")  # the benchmark lists this cell with its skip moved
    assert NASBenchGraph(proteins=True).size == 2021


def test_nb101_refuses_tuples_its_parse_would_refuse():
    from fastrank.spaces import InvalidArchitecture, NASBench101

    space = NASBench101()
    good = space.sample(np.random.default_rng(0))
    assert space.parse(space.to_string(good)) == good
    bits, ops = good
    for bad in ((bits.replace("1", "2", 1), ops),  # an adjacency entry of 2
                (bits, ops[:3]),  # 3 ops for a 7x7 matrix
                (bits, ops[:1] + ("conv5x5",) + ops[2:]),
                (bits, list(ops))):
        for method in (space.to_string, space.graph, space.identity, space.neighbours):
            with pytest.raises(InvalidArchitecture):
                method(bad)

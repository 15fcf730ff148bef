"""The NAS-Bench-Graph GNN (``fastrank.models.nasbench_graph``): parameters equal the
benchmark's ``para`` column, forward/backward, ``torch.export`` of every op, size checks, and
the ImportError that names the ``[graph]`` extra when torch_geometric is missing."""
import importlib.util
import random
import subprocess
import sys

import pytest
import torch

from fastrank.models import count_parameters
from fastrank.models.nasbench_graph import NUM_CLASSES, OPS, PRESETS, NASBenchGraphNetwork
from fastrank.spaces.nasbench_graph import LINKS, NASBenchGraph, read_table

HAS_TABLES = importlib.util.find_spec("nas_bench_graph") is not None
needs_tables = pytest.mark.skipif(not HAS_TABLES, reason="nas-bench-graph (the tables) not installed")
# Three architectures that together hold every op, and raw-input skips (no BN before the next op).
COVERING = [((0, 1, 1, 2), ("gat", "gcn", "gin", "cheb")),
            ((0, 0, 1, 3), ("sage", "arma", "graph", "fc")),
            ((0, 1, 2, 3), ("skip", "skip", "gcn", "gat"))]
SMALL = dict(num_features=12, hidden=8)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def pyg():
    return pytest.importorskip("torch_geometric")


def table_rows(dataset):
    """(link, ops, para in units, unrounded) of every row of ``dataset``'s table, by hash."""
    from fastrank._safe_pickle import package_file

    table = read_table(package_file("nas_bench_graph", f"light/{dataset}.bench", "nas-bench-graph"))
    space = NASBenchGraph(hashes=[0])  # only its (9-op) unhashing: proteins' keys use the same vocabulary
    rows = []
    for key in sorted(table, key=int):
        link, *ops = space._unhash(int(key))
        rows.append((LINKS[link], tuple(OPS[o] for o in ops), float(table[key]["para"]) * 1e6))
    return rows


def parameters(dataset, link, ops, **sizes):
    # meta tensors: the sizes without allocating or initialising the weights
    sizes.setdefault("num_classes", NUM_CLASSES[dataset])
    with torch.device("meta"):
        return count_parameters(NASBenchGraphNetwork(link, ops, preset=dataset, **sizes))


def mixed_physics_row(link, ops, para):
    """The table's ``para`` is a mean over 3 seeds. On 1,478 physics rows it is the mean of 2
    physics networks and 1 network with PubMed's settings (no pre/post layer, hidden 128) on
    physics' features: one seed of those rows was trained with another dataset's settings."""
    ours = parameters("physics", link, ops)
    pubmed_settings = parameters("pubmed", link, ops, num_features=PRESETS["physics"]["num_features"],
                                 num_classes=NUM_CLASSES["physics"])
    return abs(2 * ours + pubmed_settings - 3 * para) < 1.5


#: rows whose parameters equal the table's, of all rows (every mismatch is a physics row whose
#: seeds were trained with different networks, see ``mixed_physics_row``)
MATCHING = {dataset: (26206, 26206) for dataset in PRESETS}
MATCHING.update(physics=(24639, 26206), proteins=(2021, 2021))


@needs_tables
@pytest.mark.parametrize("dataset", list(PRESETS))
def test_parameters_equal_the_table_on_a_sample(pyg, dataset):
    sample = random.Random(dataset).sample(table_rows(dataset), 40)
    misses = [(link, ops, para) for link, ops, para in sample if abs(parameters(dataset, link, ops) - para) > 0.5]
    assert len(misses) == (1 if dataset == "physics" else 0)
    assert all(mixed_physics_row(*row) for row in misses)


@needs_tables
@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(PRESETS))
def test_parameters_equal_the_table_on_every_row(pyg, dataset):
    # ~3–8 ms a network (PyG inspects each conv's signature): 1–3 min for a 26,206-row table, ~14 min in all
    rows = table_rows(dataset)
    misses = [(link, ops, para) for link, ops, para in rows if abs(parameters(dataset, link, ops) - para) > 0.5]
    assert (len(rows) - len(misses), len(rows)) == MATCHING[dataset]
    if dataset == "physics":
        assert sum(mixed_physics_row(*row) for row in misses) == 1478


@needs_tables
def test_space_builds_the_default_cora_network(pyg):
    link, ops, para = table_rows("cora")[0]
    space = NASBenchGraph(hashes=[0])
    model = space.to_module(space.decode(0), num_classes=NUM_CLASSES["cora"])
    assert (model.link, model.ops) == (link, ops) == ((0, 0, 0, 0), ("gat",) * 4)
    assert count_parameters(model) == round(para) == 1_736_711


def test_presets_cover_the_benchmark_datasets():
    from fastrank.benchmarks.nasbench_graph import DATASETS

    assert set(PRESETS) == set(NUM_CLASSES) == set(DATASETS)


@pytest.mark.parametrize("link, ops", COVERING)
def test_forward_and_backward(pyg, link, ops):
    torch.manual_seed(0)
    model = NASBenchGraphNetwork(link, ops, num_classes=5, **SMALL)
    x, edge_index = model.example_inputs(6)
    out = model(x, edge_index)
    assert out.shape == (6, 5)
    out.square().mean().backward()
    assert model.combine.weight.grad is not None
    assert all(any(p.grad is not None for p in op.parameters()) for op in model.node_ops if len(list(op.parameters())))


def test_example_inputs_are_an_undirected_graph(pyg):
    model = NASBenchGraphNetwork((0, 1, 2, 3), ("gcn",) * 4, **SMALL)
    x, edge_index = model.example_inputs(5)
    assert x.shape == (5, 12) and edge_index.shape == (2, 20) and edge_index.dtype == torch.long
    assert 0 <= int(edge_index.min()) and int(edge_index.max()) < 5
    pairs = set(map(tuple, edge_index.t().tolist()))
    assert pairs == {(b, a) for a, b in pairs}
    with pytest.raises(ValueError, match="batch"):
        model.example_inputs(0)


def test_raw_input_skips_feed_ops_and_the_output_unnormalised(pyg):
    # no pre layer: a skip of the input carries 12 raw features; the benchmark's table never
    # has such a skip as an output, but the network sizes its output layer for it
    model = NASBenchGraphNetwork((0, 0, 0, 0), ("skip", "gcn", "fc", "gat"), num_classes=3, **SMALL)
    assert model.reads_raw == [True] * 4 and model.combine.in_features == 12 + 3 * 8
    assert model(*model.example_inputs(4)).shape == (4, 3)
    chained = NASBenchGraphNetwork((0, 1, 2, 3), ("skip", "skip", "gcn", "gcn"), **SMALL)
    assert chained.reads_raw == [True, True, True, False]
    assert chained.node_ops[2].in_channels == 12
    with_pre = NASBenchGraphNetwork((0, 1, 2, 3), ("skip", "skip", "gcn", "gcn"), pre_layers=1, **SMALL)
    assert with_pre.reads_raw == [False] * 4


def test_every_op_exports(pyg):
    """Pins which ops ``torch.export`` takes (all of them, on torch_geometric 2.8): the
    exported program gives the module's output in eval mode, on the example graph and, with
    the node and edge counts dynamic, on a graph of another size."""
    exported_ops = set()
    for link, ops in COVERING:
        torch.manual_seed(0)
        model = NASBenchGraphNetwork(link, ops, num_classes=4, **SMALL).eval()
        inputs = model.example_inputs()
        program = torch.export.export(model, inputs)
        torch.testing.assert_close(program.module()(*inputs), model(*inputs))
        nodes, edges = torch.export.Dim("nodes", min=2), torch.export.Dim("edges", min=2)
        dynamic = torch.export.export(model, inputs, dynamic_shapes=({0: nodes}, {1: edges}))
        other = model.example_inputs(11)
        torch.testing.assert_close(dynamic.module()(*other), model(*other))
        exported_ops.update(ops)
    assert exported_ops == set(OPS)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(hidden=6), ValueError, "multiple of 4"),
    (dict(hidden=0), ValueError, "hidden"),
    (dict(num_features="12"), TypeError, "num_features"),
    (dict(num_classes=0), ValueError, "num_classes"),
    (dict(pre_layers=-1), ValueError, "pre_layers"),
    (dict(post_layers=1.0), TypeError, "post_layers"),
    (dict(dropout=1.0), ValueError, "dropout"),
    (dict(dropout=True), ValueError, "dropout"),
    (dict(preset="mnist"), ValueError, "preset"),
])
def test_bad_sizes_are_rejected(pyg, kwargs, error, match):
    with pytest.raises(error, match=match):
        NASBenchGraphNetwork((0, 1, 2, 3), ("gcn",) * 4, **kwargs)


@pytest.mark.parametrize("link, ops, match", [
    ((0, 2, 1, 1), ("gcn",) * 4, "earlier node"),
    ((0, 1, 1), ("gcn",) * 4, "one parent per op"),
    ((0, 1, 1, 2), ("gcn", "gcn", "mlp", "gcn"), "unknown"),
    ("0112", ("gcn",) * 4, "one parent per op"),
])
def test_bad_architectures_are_rejected(link, ops, match):
    with pytest.raises(ValueError, match=match):
        NASBenchGraphNetwork(link, ops)


def test_missing_torch_geometric_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    with pytest.raises(ImportError, match=r"pip install 'fastrank\[graph\]'"):
        NASBenchGraphNetwork((0, 1, 2, 3), ("gcn",) * 4)


def test_the_module_imports_without_torch_geometric():
    code = ("import sys; sys.modules['torch_geometric'] = None\n"
            "import fastrank.models.nasbench_graph as m\n"
            "try:\n    m.NASBenchGraphNetwork((0, 0, 0, 0), ['fc'] * 4)\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'fastrank[graph]'" in out.stdout

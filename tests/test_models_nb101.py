"""The NB101 network against the NB101 table's own params and flops columns.

Source of the expected numbers: ``benchmarks/data/nb101_subset.csv.xz``, 500 cells of
NAS-Bench-101 with ``params`` and ``flops`` in millions as NASLib's zero-cost benchmark stored
them (the network of google-research/nasbench ``nasbench/lib/model_builder.py``; FLOPs as
tensorwatch's torchstat counts them, see ``fastrank.models.nb101``). Networks for counting are
built on the meta device: shapes only, so a forward pass at full size costs no arithmetic."""
import numpy as np
import pytest
import torch
from torch import nn

from fastrank.benchmarks import table_files
from fastrank.models import count_flops, count_parameters, count_torchstat_flops
from fastrank.models.nb101 import BN_EPSILON, BN_MOMENTUM, NB101Network, vertex_channels
from fastrank.spaces import InvalidArchitecture, NASBench101

SPACE = NASBench101()
TABLE = table_files.read("nb101_subset.csv", str(table_files.packaged_folder()))
ROWS = list(zip(TABLE.text("adjacency"), TABLE.text("ops"), TABLE.numbers("params"), TABLE.numbers("flops")))
SMALL = dict(stem_channels=8, stacks=2, cells_per_stack=1, image_size=8)
# every op and every kind of edge in nine: input → vertex (projected), vertex → vertex with a
# channel cut (8 output channels over vertices 1, 2, 5 are 3, 3, 2, and vertex 1 feeds vertex 3,
# which takes the 2 of the chain 3 → 4 → 5), input → output (projected and added)
EVERY_EDGE = ("0110001"
              "0001001"
              "0000001"
              "0000100"
              "0000010"
              "0000001"
              "0000000")
EVERY_EDGE_OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
                  "conv1x1-bn-relu", "output")
torch.set_num_threads(1)


def matrix(bits: str) -> np.ndarray:
    return np.array([int(c) for c in bits]).reshape(7, 7)


def on_meta(bits: str, ops) -> NB101Network:
    with torch.device("meta"):
        return NB101Network(matrix(bits), tuple(ops.split(",")) if isinstance(ops, str) else ops)


def test_table_holds_500_rows():
    assert len(ROWS) == 500


def _parameter_mismatches(rows):
    return [(bits, ops, count_parameters(net), round(p * 1e6)) for bits, ops, p, _ in rows
            if count_parameters(net := on_meta(bits, ops)) != round(p * 1e6)]


def test_parameters_of_every_tenth_row_are_the_tables():
    assert _parameter_mismatches(ROWS[::10]) == []


@pytest.mark.slow
def test_parameters_of_every_row_are_the_tables():
    assert _parameter_mismatches(ROWS) == []  # all 500 match exactly


def _flops_mismatches(rows):
    return [(bits, ops, flops, round(f * 1e6)) for bits, ops, _, f in rows
            if (flops := count_torchstat_flops(on_meta(bits, ops))) != round(f * 1e6)]


def test_flops_of_a_sample_are_the_tables():
    assert _flops_mismatches(ROWS[::25]) == []


@pytest.mark.slow
def test_flops_of_every_row_are_the_tables():
    assert _flops_mismatches(ROWS) == []  # all 500 exact (the column has 6 decimals of millions: whole FLOPs)


def test_plain_macs_are_below_the_table():
    # the table is not conv + linear MACs alone: batch norm, ReLU and pooling add 0.2-13.4 % (1.7 % here)
    bits, ops, _, flops_m = ROWS[0]
    net = on_meta(bits, ops)
    macs = count_flops(net, net.example_inputs(1))
    assert 0.01 < 1 - macs / (flops_m * 1e6) < 0.07
    assert count_torchstat_flops(net) == round(flops_m * 1e6) == 624_558_080


def test_to_module_is_the_network_of_the_unpacked_cell():
    bits, ops, params_m, _ = ROWS[0]
    with torch.device("meta"):
        net = SPACE.to_module(SPACE.parse(bits + ";" + ops))
    assert isinstance(net, NB101Network)
    assert count_parameters(net) == round(params_m * 1e6)


def test_channels_split_as_nb101_computes_them():
    # 128 over vertices 2, 3, 4 feeding the output: 43, 43, 42 (the first ones get the remainder);
    # vertex 1 feeds only vertex 4 and takes its 42
    m = np.array([[0, 1, 1, 1, 0, 0],
                  [0, 0, 0, 0, 1, 0],
                  [0, 0, 0, 0, 0, 1],
                  [0, 0, 0, 0, 0, 1],
                  [0, 0, 0, 0, 0, 1],
                  [0, 0, 0, 0, 0, 0]])
    assert vertex_channels(64, 128, m) == [64, 42, 43, 43, 42, 128]
    assert vertex_channels(64, 128, np.array([[0, 1], [0, 0]])) == [64, 128]


def test_unreachable_vertices_are_pruned():
    # without 4 → 5, vertex 5 has no input and vertices 3, 4 reach no output: the cell keeps 0, 1, 2, 6
    cut = matrix(EVERY_EDGE).copy()
    cut[4, 5] = 0
    with torch.device("meta"):
        net = NB101Network(cut, EVERY_EDGE_OPS)
    assert net.cell_ops == ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output")
    assert net.cell_matrix.tolist() == [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert net.features[1].channels == [128, 64, 64, 128]


def test_every_vertex_reaches_the_output_and_trains():
    torch.manual_seed(0)
    net = NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS, num_classes=7, **SMALL)
    assert net.features[1].channels == [8, 3, 3, 2, 2, 2, 8]
    x = net.example_inputs(3)[0].requires_grad_()
    out = net(x)
    assert out.shape == (3, 7)
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert x.grad.abs().sum() > 0


def test_cell_of_input_and_output_only_is_a_projection():
    bits = "0000001" + "0" * 42
    net = NB101Network(matrix(bits), EVERY_EDGE_OPS, **SMALL)
    assert net.cell_ops == ("input", "output")
    cell = net.features[1]
    assert list(cell.projections) == ["1"] and len(cell.vertex_ops) == 0
    assert net(net.example_inputs(2)[0]).shape == (2, 10)


def test_export_gives_the_modules_output():
    torch.manual_seed(0)
    net = NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS, **SMALL).eval()
    inputs = net.example_inputs(2)
    exported = torch.export.export(net, inputs)
    with torch.no_grad():
        assert torch.allclose(exported.module()(*inputs), net(*inputs), atol=1e-6)


def test_odd_image_sizes_downsample_with_a_partial_last_window():
    net = NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS, stem_channels=8, stacks=3, cells_per_stack=1,
                       image_size=9)
    shapes = []
    hooks = [m.register_forward_hook(lambda m, a, o: shapes.append(tuple(o.shape[2:])))
             for m in net.features if isinstance(m, nn.MaxPool2d)]
    net(net.example_inputs(1)[0])
    for h in hooks:
        h.remove()
    assert shapes == [(5, 5), (3, 3)]  # TensorFlow's "same" pooling: ceil(9 / 2), ceil(5 / 2)


def test_batch_norm_and_initial_weights_are_nb101s():
    torch.manual_seed(0)
    net = NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS)
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == BN_MOMENTUM == pytest.approx(1 - 0.997) and m.eps == BN_EPSILON == 1e-5
                         for m in norms)
    assert not any(m.bias is not None for m in net.modules() if isinstance(m, nn.Conv2d))
    stem = net.features[0][0].weight  # 3×3 from 3 channels: variance 1/27, cut at two deviations
    assert stem.std().item() == pytest.approx((1 / 27) ** 0.5, rel=0.1)
    assert stem.abs().max().item() <= 2 * (1 / 27) ** 0.5 / 0.8796 + 1e-6
    assert torch.equal(net.classifier.bias, torch.zeros(10))


def test_torchstat_counting_of_each_layer_kind():
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AvgPool2d(3, stride=1, padding=1), nn.Flatten(), nn.Linear(16, 5))
    inputs = (torch.randn(3, 2, 4, 4),)
    conv = 4 * 4 * 4 * 2 * 9 + 4 * 4 * 4  # MACs and one per output element for the bias
    norm, relu, maxpool, avgpool, linear = 2 * 64, 64, 4 * 16, 9 * 16, 16 * 5  # the linear bias is not counted
    assert count_torchstat_flops(model, inputs) == conv + norm + relu + maxpool + avgpool + linear


@pytest.mark.parametrize("sizes, message", [
    (dict(stem_channels=0), "stem_channels must be at least 1"),
    (dict(stacks=0), "stacks must be at least 1"),
    (dict(cells_per_stack=-1), "cells_per_stack must be at least 1"),
    (dict(num_classes=0), "num_classes must be at least 1"),
    (dict(in_channels=2.5), "in_channels must be an int"),
    (dict(image_size=0), "image_size must be at least 1"),
    (dict(stem_channels=2), "too few"),  # three vertices share the output channels
])
def test_bad_sizes_are_refused(sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS, **sizes)


def test_unknown_size_argument_is_refused():
    with pytest.raises(TypeError, match="stem_chanels"):
        NB101Network(matrix(EVERY_EDGE), EVERY_EDGE_OPS, stem_chanels=3)


@pytest.mark.parametrize("bits, ops, message", [
    ("0" * 49, EVERY_EDGE_OPS, "no path"),
    (EVERY_EDGE, EVERY_EDGE_OPS[:-1] + ("conv3x3-bn-relu",), "must start with 'input' and end with 'output'"),
    (EVERY_EDGE, EVERY_EDGE_OPS[:1] + ("conv5x5",) + EVERY_EDGE_OPS[2:], "unknown NB101 operation"),
])
def test_cells_the_space_refuses_are_refused(bits, ops, message):
    with pytest.raises(InvalidArchitecture, match=message):
        NB101Network(matrix(bits), ops)

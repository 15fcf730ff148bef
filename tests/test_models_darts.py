"""The DARTS network against the counts the NAS-Bench-301 sample lists and the DARTS paper's.

The sample (``benchmarks/data/nb301_subset.csv.xz``, from NASLib's zero-cost benchmark) lists
``params`` and ``flops`` in millions, both counted by tensorwatch's ModelStats on NASLib's
NB301 network; the default preset must reproduce them exactly (see ``fastrank.models.darts``).
DARTS's ``train.py`` prints ``param size = 3.349342MB`` for its DARTS V2 network, without the
auxiliary head."""
import pytest
import torch
from torch import nn

from fastrank.benchmarks import load
from fastrank.models import count_flops, count_parameters, count_torchstat_flops
from fastrank.models.darts import DARTSNetwork, drop_path
from fastrank.spaces import DARTS, InvalidArchitecture

SPACE = DARTS()
NB301 = load("nb301")
DARTS_V2 = SPACE.parse(
    "sep_conv_3x3~0 sep_conv_3x3~1 sep_conv_3x3~0 sep_conv_3x3~1 sep_conv_3x3~1 skip_connect~0 skip_connect~0 "
    "dil_conv_3x3~2|max_pool_3x3~0 max_pool_3x3~1 skip_connect~2 max_pool_3x3~1 max_pool_3x3~0 skip_connect~2 "
    "skip_connect~2 max_pool_3x3~1")
# every operation in both cells; the reduction cell's skip_connect and pools read the cell inputs (stride 2)
EVERY_OP = SPACE.parse(
    "max_pool_3x3~0 avg_pool_3x3~1 skip_connect~0 sep_conv_3x3~2 sep_conv_5x5~1 dil_conv_3x3~3 dil_conv_5x5~4 "
    "skip_connect~2|skip_connect~0 max_pool_3x3~1 avg_pool_3x3~0 sep_conv_5x5~2 dil_conv_3x3~1 dil_conv_5x5~3 "
    "sep_conv_3x3~4 skip_connect~2")


pytestmark = pytest.mark.usefixtures("one_thread")


def table_row(i):
    return NB301.archs[i], round(NB301.weak_labels["params"][i] * 1e6), round(NB301.weak_labels["flops"][i] * 1e6)


def test_parameters_match_the_nb301_table():
    # a twelfth of the 1,218 rows here (building a network takes ~50 ms); all of them in the slow test below
    rows = range(0, len(NB301.archs), 12)
    matched = sum(count_parameters(SPACE.to_module(arch)) == params for arch, params, _ in map(table_row, rows))
    assert matched == len(rows)


def test_flops_match_the_nb301_table_by_torchstat_counting():
    rows = range(0, len(NB301.archs), 61)
    for arch, _, flops in map(table_row, rows):
        net = SPACE.to_module(arch)
        x = net.example_inputs(1)
        assert count_torchstat_flops(net, x) == flops
        # plain multiply-accumulates leave out batch norm, ReLU and pooling: 2.8 to 9.8 % fewer over the table
        assert 0.89 < count_flops(net, x) / flops < 0.98


@pytest.mark.slow
def test_every_row_of_the_nb301_table():
    matched_params = matched_flops = 0
    for i in range(len(NB301.archs)):
        arch, params, flops = table_row(i)
        net = SPACE.to_module(arch)
        matched_params += count_parameters(net) == params
        matched_flops += count_torchstat_flops(net, net.example_inputs(1)) == flops
    assert (matched_params, matched_flops) == (len(NB301.archs), len(NB301.archs))


def test_the_table_counts_no_auxiliary_head():
    arch, params, _ = table_row(0)
    with_head = SPACE.to_module(arch, auxiliary=True)
    head = count_parameters(with_head.auxiliary_head)
    # DARTS's head on 512 channels: 1×1 conv to 128, 2×2 conv to 768, two BNs, linear to 10
    assert head == 512 * 128 + 128 * 768 * 4 + 2 * (128 + 768) + 768 * 10 + 10
    assert count_parameters(with_head) == params + head


def test_darts_v2_has_the_published_size():
    net = SPACE.to_module(DARTS_V2, preset="darts")
    assert (len(net.cells), net.classifier.in_features, net.auxiliary) == (20, 16 * 36, True)
    # DARTS's count_parameters_in_MB leaves out parameters named "auxiliary"
    assert sum(p.numel() for name, p in net.named_parameters() if "auxiliary" not in name) == 3_349_342
    assert count_parameters(net) == 3_825_768
    assert count_flops(net, net.example_inputs(1)) == 528_359_040  # the ~528M MACs usually quoted


def test_default_is_the_nb301_network():
    net = SPACE.to_module(EVERY_OP).eval()
    shapes = []
    for cell in net.cells:
        cell.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape[1:])))
    net(net.example_inputs(1)[0])
    assert net.stem[0].out_channels == 96
    assert shapes == [(128, 32, 32)] * 2 + [(256, 16, 16)] * 3 + [(512, 8, 8)] * 3
    assert not net.auxiliary and net.drop_path == 0.0
    batch_norms = [m for m in net.cells.modules() if isinstance(m, nn.BatchNorm2d)]
    assert any(m.affine for m in batch_norms) and any(not m.affine for m in batch_norms)


def test_training_returns_auxiliary_logits_and_every_parameter_learns():
    torch.manual_seed(0)
    net = SPACE.to_module(EVERY_OP, num_classes=7, channels=4, cells=5, auxiliary=True, drop_path=0.2)
    x = net.example_inputs(3)[0].requires_grad_()
    logits, aux_logits = net.train()(x)
    assert logits.shape == aux_logits.shape == (3, 7)
    (logits.square().sum() + 0.4 * aux_logits.square().sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    assert x.grad.abs().sum() > 0
    out = net.eval()(x)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 7)


def test_training_without_auxiliary_head_returns_logits():
    net = SPACE.to_module(EVERY_OP, channels=4, cells=3).train()
    assert net(net.example_inputs(2)[0]).shape == (2, 10)


def test_drop_path_acts_in_training_only():
    torch.manual_seed(0)
    net = SPACE.to_module(EVERY_OP, channels=4, cells=3, drop_path=0.5)
    x = net.example_inputs(4)[0]
    net.eval()
    first = net(x)
    assert torch.equal(net(x), first)
    net.drop_path = 0.0
    assert torch.equal(net(x), first)
    net.train()
    plain = net(x)
    net.drop_path = 0.5
    assert not torch.allclose(net(x), plain)


def test_drop_path_zeroes_or_rescales_whole_examples():
    torch.manual_seed(0)
    x = torch.ones(64, 3, 2, 2)
    out = drop_path(x, 0.25)
    per_example = out.flatten(1)
    assert all(v == 0.0 or v == pytest.approx(1 / 0.75) for v in per_example.unique().tolist())
    assert torch.equal(per_example.min(1).values, per_example.max(1).values)


def test_export_gives_the_module_output_in_eval_mode():
    torch.manual_seed(0)
    for net in (SPACE.to_module(EVERY_OP), SPACE.to_module(EVERY_OP, channels=4, cells=5, auxiliary=True)):
        net.eval()
        x = net.example_inputs(2)
        program = torch.export.export(net, x)
        assert torch.allclose(program.module()(*x), net(*x), atol=1e-5)


def test_torchstat_rules():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(3, stride=2, padding=1), nn.BatchNorm2d(4, affine=False),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    conv = 8 * 8 * 4 * 3 * 9 + 8 * 8 * 4  # MACs and the bias
    bn, relu = 2 * 4 * 64, 4 * 64
    pool, bn_plain = 4 * 16 * 9, 4 * 16
    global_pool = 4 * 5 * 5  # torchstat's (H + 1)(W + 1) per channel
    linear = 4 * 5  # without its bias
    assert count_torchstat_flops(net, (torch.randn(2, 3, 8, 8),)) == conv + bn + relu + pool + bn_plain + global_pool + linear


@pytest.mark.parametrize("sizes, error, message", [
    (dict(preset="nb201"), ValueError, "unknown DARTS preset 'nb201'"),
    (dict(channels=0), ValueError, "channels must be at least 1"),
    (dict(cells=0), ValueError, "cells must be at least 1"),
    (dict(channels=2.5), TypeError, "channels must be an int"),
    (dict(num_classes=0), ValueError, "num_classes must be at least 1"),
    (dict(in_channels=0), ValueError, "in_channels must be at least 1"),
    (dict(image_size=30), ValueError, "multiple of 4"),
    (dict(image_size=64, auxiliary=True), ValueError, "auxiliary head needs an 8×8 to 10×10 map"),
    (dict(auxiliary=1), TypeError, "auxiliary must be a bool"),
    (dict(drop_path=1.0), ValueError, r"drop_path must be a probability in \[0, 1\)"),
    (dict(drop_path=-0.1), ValueError, "drop_path must be a probability"),
])
def test_bad_sizes_are_refused(sizes, error, message):
    with pytest.raises(error, match=message):
        SPACE.to_module(EVERY_OP, **sizes)


def test_small_images_without_auxiliary_head_are_fine():
    net = SPACE.to_module(EVERY_OP, channels=4, cells=3, image_size=16, in_channels=1, num_classes=3).eval()
    assert net(net.example_inputs(2)[0]).shape == (2, 3)


def test_unknown_size_argument_is_refused():
    with pytest.raises(TypeError, match="chanels"):
        SPACE.to_module(EVERY_OP, chanels=16)


def test_bad_cells_are_refused():
    normal, reduce = EVERY_OP
    with pytest.raises(InvalidArchitecture, match="cannot read node"):
        DARTSNetwork(normal[:2] + ((3, 3),) + normal[3:], reduce)
    with pytest.raises(InvalidArchitecture, match="8 \\(op, input\\) pairs"):
        DARTSNetwork(normal[:7], reduce)
    assert count_parameters(DARTSNetwork([list(p) for p in normal], reduce)) == \
        count_parameters(DARTSNetwork(normal, reduce))

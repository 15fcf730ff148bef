"""The NAS-Bench-Macro network against the benchmark's own table (params and FLOPs of all 6,561
rows), plus training, export and argument checks.

The table's ``params`` is every parameter and its ``flops`` the conv + linear multiply-accumulates
without biases (xiusu/NAS-Bench-Macro, ``train/utils.py``), i.e. ``count_parameters`` and
``count_flops`` with no options."""
from __future__ import annotations

import csv
import io
import lzma
import random

import pytest
import torch

from fastrank.benchmarks import table_files
from fastrank.models import count_flops, count_parameters
from fastrank.models.nasbench_macro import NASBenchMacroNetwork
from fastrank.spaces import NASBenchMacro

SPACE = NASBenchMacro()


@pytest.fixture(scope="module")
def table():
    """{arch string: (params, flops)} for every row of the packaged table."""
    raw = lzma.decompress((table_files.packaged_folder() / "nasbench_macro.csv.xz").read_bytes())
    rows = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    return {r["arch"]: (int(r["params"]), int(r["flops"])) for r in rows}


def build(arch: str, **sizes) -> NASBenchMacroNetwork:
    return SPACE.to_module(SPACE.parse(arch), **sizes)


def counts(model) -> tuple:
    return count_parameters(model), count_flops(model, model.example_inputs(1))


@pytest.fixture(scope="module")
def layer_costs():
    """Each layer's (params, FLOPs) by (position, op), and those of the stem + head.

    A layer's shape depends only on its position, so a network's counts are the stem + head's
    plus its layers' own: the three networks with one op everywhere give every layer's cost.
    ``test_whole_networks_match_the_table`` checks this sum against whole networks."""
    torch.set_num_threads(1)
    per_layer, rest = {}, set()
    for op in range(3):
        model = build(str(op) * 8).eval()
        inputs = {}
        hooks = [layer.register_forward_hook(lambda m, a, o, i=i: inputs.__setitem__(i, a[0]))
                 for i, layer in enumerate(model.features)]
        params, flops = counts(model)
        for h in hooks:
            h.remove()
        for i, layer in enumerate(model.features):
            per_layer[i, op] = (count_parameters(layer), count_flops(layer, (inputs[i],)))
        rest.add((params - sum(per_layer[i, op][0] for i in range(8)),
                  flops - sum(per_layer[i, op][1] for i in range(8))))
    assert len(rest) == 1, "the stem and head do not depend on the layers"
    return per_layer, rest.pop()


def test_every_row_matches_the_table(table, layer_costs):
    per_layer, (base_params, base_flops) = layer_costs
    assert len(table) == 3 ** 8
    params_ok = flops_ok = 0
    worst = 0.0
    for arch, (params, flops) in table.items():
        ops = [int(c) for c in arch]
        ours_params = base_params + sum(per_layer[i, op][0] for i, op in enumerate(ops))
        ours_flops = base_flops + sum(per_layer[i, op][1] for i, op in enumerate(ops))
        params_ok += ours_params == params
        flops_ok += ours_flops == flops
        worst = max(worst, abs(ours_flops - flops) / flops)
    # every row exactly: the counting is the benchmark's, not an approximation of it
    assert (params_ok, flops_ok, worst) == (len(table), len(table), 0.0)


def test_whole_networks_match_the_table(table):
    torch.set_num_threads(1)
    rows = ["00000000", "11111111", "22222222", "20000000", "02000000", "00200000", "01201201"]
    for arch in rows + random.Random(0).sample(sorted(table), 24):
        assert counts(build(arch).eval()) == table[arch], arch


@pytest.mark.slow
def test_every_whole_network_matches_the_table(table):
    torch.set_num_threads(1)
    for arch, expected in table.items():
        with torch.device("meta"):
            model = build(arch)
        # shapes alone fix the counts: uninitialised CPU weights are enough and quick to make
        model = model.to_empty(device="cpu").eval()
        assert counts(model) == expected, arch


def test_known_row_counts(table):
    # the all-identity network: its four shape-changing identities are 1x1 conv + BN projections
    model = build("00000000")
    assert counts(model) == table["00000000"] == (387_882, 7_713_280)
    assert sum(isinstance(layer, torch.nn.Identity) for layer in model.features) == 5


def test_stages_halve_the_resolution_and_double_the_width():
    model = build("12121212").eval()
    with torch.no_grad():
        features = model.features(model.stem(torch.randn(2, 3, 32, 32)))
    assert features.shape == (2, 256, 4, 4)
    assert [layer.body[3].kernel_size for layer in model.features[:2]] == [(3, 3), (5, 5)]
    assert model.features[1].body[0].out_channels == 64 * 6


def test_forward_and_backward():
    torch.manual_seed(0)
    model = build("21012021", num_classes=7, stem_channels=4, head_channels=16, image_size=16)
    x = model.example_inputs(3)[0].requires_grad_()
    out = model(x)
    assert out.shape == (3, 7)
    out.square().sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert x.grad.abs().sum() > 0


def test_export_matches_eager():
    torch.manual_seed(0)
    model = build("20110221", stem_channels=8, head_channels=32).eval()
    inputs = model.example_inputs(2)
    exported = torch.export.export(model, inputs)
    torch.testing.assert_close(exported.module()(*inputs), model(*inputs))


@pytest.mark.parametrize("sizes, message", [
    (dict(stem_channels=0), "stem_channels must be at least 1"),
    (dict(head_channels=2.0), "head_channels must be an int"),
    (dict(image_size=0), "image_size must be at least 1"),
    (dict(in_channels=True), "in_channels must be an int"),
    (dict(num_classes=0), "num_classes must be at least 1"),
])
def test_bad_sizes_are_refused(sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build("00000000", **sizes)


def test_unknown_size_argument_is_refused():
    with pytest.raises(TypeError, match="channelz"):
        build("00000000", channelz=8)


@pytest.mark.parametrize("layers", [(0,) * 7, (0,) * 7 + (3,), (0,) * 7 + (True,), "00000000", (0.0,) * 8])
def test_bad_layers_are_refused(layers):
    with pytest.raises(ValueError, match="8 ints in 0..2"):
        NASBenchMacroNetwork(layers)

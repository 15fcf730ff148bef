"""The TransNAS-Bench-101 encoders with a classification head: parameters and FLOPs against
published numbers, the skeleton's geometry, training, export and argument checks.

Our TNB tables have no parameter or FLOP columns. The published numbers used here are the
``params`` (millions) and ``flops`` (millions) that NASLib stores per architecture in its
zero-cost benchmark files (automl/NASLib, ``naslib/data/zc_transbench101_micro.json`` and
``zc_transbench101_macro.json``, task ``class_scene``), measured on the TNB authors' own model
code (``tnb101/models``) with NASLib's 63-way class_scene head and 256×256 inputs.
Their ``flops`` are tensorwatch's torchstat counting (``count_torchstat_flops``), which
reproduces them exactly, including torchstat's (H+1)(W+1) per channel for the global pooling."""
from __future__ import annotations

import pytest
import torch

from fastrank.models import count_parameters, count_torchstat_flops
from fastrank.models.cell import Zero
from fastrank.models.transnas import TransNASMacroNetwork, TransNASMicroNetwork
from fastrank.spaces import TransNASMacro, TransNASMicro

MICRO, MACRO = TransNASMicro(), TransNASMacro()
NASLIB_CLASS_SCENE_CLASSES = 63

# (architecture, params in millions, FLOPs in millions) as NASLib's zero-cost files store them
PUBLISHED = [
    (MICRO, "64-41414-1_00_210", 0.910687, 263.299072),
    (MICRO, "64-41414-1_00_223", 9.440607, 1946.13248),
    (MICRO, "64-41414-0_11_233", 16.256351, 3288.30976),
    (MICRO, "64-41414-1_33_223", 23.237983, 4744.880128),
    (MICRO, "64-41414-0_12_010", 1.082719, 288.23552),
    (MICRO, "64-41414-3_22_323", 22.372959, 4662.861824),
    (MACRO, "64-1242-basic", 11.218783, 13602.455552),
    (MACRO, "64-2124-basic", 11.661663, 21871.0016),
    (MACRO, "64-113112-basic", 1.297247, 2304.65536),
    (MACRO, "64-413331-basic", 3.557343, 1450.03008),
    (MACRO, "64-3443-basic", 5.240543, 556.115968),
]


def small(space, text, **sizes):
    """A narrow, low-resolution copy of a TNB network, for quick tests."""
    return space.to_module(space.parse(text), **{"base_channels": 8, "image_size": 64, **sizes})


@pytest.mark.parametrize("space, text, params_m, flops_m", PUBLISHED, ids=[p[1] for p in PUBLISHED])
def test_parameters_and_flops_match_published_numbers(space, text, params_m, flops_m):
    torch.set_num_threads(1)
    model = space.to_module(space.parse(text), num_classes=NASLIB_CLASS_SCENE_CLASSES).eval()
    assert model.input_shape == (3, 256, 256)
    assert count_parameters(model) == round(params_m * 1e6)
    assert count_torchstat_flops(model) == round(flops_m * 1e6)


def stage_shapes(model):
    shapes = []
    hooks = [stage.register_forward_hook(lambda m, a, o: shapes.append(tuple(o.shape[1:]))) for stage in model.stages]
    with torch.no_grad():
        model.eval()(*model.example_inputs(1))
    for h in hooks:
        h.remove()
    return shapes


def test_macro_digits_halve_the_resolution_and_double_the_channels():
    # the stem divides 64 by 4; 1 normal, 2 channels x2, 3 stride 2, 4 both
    model = small(MACRO, "64-123412-basic")
    assert stage_shapes(model) == [(8, 16, 16), (16, 16, 16), (16, 8, 8), (32, 4, 4), (32, 4, 4), (64, 4, 4)]
    assert model(*model.example_inputs(2)).shape == (2, 10)


def test_micro_skeleton_is_41414():
    model = small(MICRO, "64-41414-3_33_333")
    assert stage_shapes(model) == [(16, 8, 8), (16, 8, 8), (32, 4, 4), (32, 4, 4), (64, 2, 2)]
    # at TNB's own sizes the encoder ends at 512 channels, 8x8
    assert TransNASMicroNetwork((3,) * 6).out_channels == 512


def test_micro_convolutions_add_parameters():
    conv = count_parameters(small(MICRO, "64-41414-3_33_333"))
    skip = count_parameters(small(MICRO, "64-41414-1_11_111"))
    none = count_parameters(small(MICRO, "64-41414-0_00_000"))
    assert conv > skip > none
    # all-none cells have no parameters: only the stem and the classifier are left
    model = small(MICRO, "64-41414-0_00_000")
    assert none == count_parameters(model.stem) + count_parameters(model.classifier)


def test_cells_that_change_shape_keep_it_when_edges_are_none():
    # node 1 of every cell gets only a "none" edge and feeds two convolutions: where the cell
    # halves the resolution and doubles the channels, its zeros must already have the new shape
    model = small(MICRO, "64-41414-0_03_030").eval()
    assert stage_shapes(model)[-1] == (64, 2, 2)
    reduction_cell = model.stages[0][0]
    out = reduction_cell(torch.randn(2, 8, 16, 16))
    assert out.shape == (2, 16, 8, 8)
    cut_off = small(MICRO, "64-41414-0_00_000").stages[0][0]
    assert torch.equal(cut_off(torch.randn(2, 8, 16, 16)), torch.zeros(2, 16, 8, 8))
    # where the shape is kept, "none" is the shared Zero that the cell leaves out of its sums
    assert isinstance(model.stages[1][0].edge_ops[0], Zero)


@pytest.mark.parametrize("space, text", [(MICRO, "64-41414-3_12_031"), (MACRO, "64-4132-basic")])
def test_forward_and_backward(space, text):
    torch.manual_seed(0)
    model = small(space, text, num_classes=5, image_size=32)
    x = model.example_inputs(3)[0].requires_grad_()
    out = model(x)
    assert out.shape == (3, 5)
    out.square().sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("space, text", [(MICRO, "64-41414-1_02_333"), (MACRO, "64-2314-basic")])
def test_export_matches_eager(space, text):
    torch.manual_seed(0)
    model = small(space, text, image_size=32).eval()
    inputs = model.example_inputs(2)
    exported = torch.export.export(model, inputs)
    torch.testing.assert_close(exported.module()(*inputs), model(*inputs))


@pytest.mark.parametrize("sizes, message", [
    (dict(base_channels=7), "base_channels must be even"),
    (dict(base_channels=0), "base_channels must be at least 2"),
    (dict(blocks_per_stage=0), "blocks_per_stage must be at least 1"),
    (dict(image_size=1.5), "image_size must be an int"),
    (dict(in_channels=0), "in_channels must be at least 1"),
    (dict(num_classes=0), "num_classes must be at least 1"),
])
@pytest.mark.parametrize("space, text", [(MICRO, "64-41414-1_02_333"), (MACRO, "64-2314-basic")])
def test_bad_sizes_are_refused(space, text, sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        space.to_module(space.parse(text), **sizes)


def test_unknown_size_argument_is_refused():
    with pytest.raises(TypeError, match="channels"):
        MACRO.to_module(MACRO.parse("64-2314-basic"), channels=8)


@pytest.mark.parametrize("ops", [(3,) * 5, (3,) * 5 + (4,), (3,) * 5 + (False,), "333333"])
def test_bad_micro_ops_are_refused(ops):
    with pytest.raises(ValueError, match="ops must be 6 ints in 0..3"):
        TransNASMicroNetwork(ops)


@pytest.mark.parametrize("stages", [(1, 2, 3), (1, 2, 3, 4, 1, 2, 3), (0, 1, 2, 3), (1, 2, 3, 5)])
def test_bad_macro_stages_are_refused(stages):
    with pytest.raises(ValueError, match="stages must be 4-6 ints in 1..4"):
        TransNASMacroNetwork(stages)

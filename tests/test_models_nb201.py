"""The NB201 network against the numbers NAS-Bench-201 itself stores.

Source of the expected numbers: the NAS-Bench-201 v1.1 benchmark file
(NAS-Bench-201-v1_1-096897.pth) keeps, per dataset, each network's ``params`` (millions) and
``flop`` (millions); their extremes over the 15,625 cells are the cell with no convolution
(e.g. all "none") and the all-nor_conv_3x3 cell. The values below are those extremes, as read
out of the benchmark's per-dataset files by HPOBench's NB201 data scripts and used as the
normalisation bounds of EvoXBench's NB201 suite (``min_max_values``)."""
import pytest
import torch

from fastrank.models import count_flops, count_parameters
from fastrank.spaces import NASBench201

SPACE = NASBench201()
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"

# (dataset sizes, cell, params in millions, FLOPs in millions) as NAS-Bench-201 stores them
PUBLISHED = [
    (dict(num_classes=10), ALL_NONE, 0.073306, 7.78305),
    (dict(num_classes=10), ALL_CONV3, 1.531546, 220.11969),
    (dict(num_classes=100), ALL_NONE, 0.079156, 7.7889),
    (dict(num_classes=100), ALL_CONV3, 1.537396, 220.12554),
    (dict(num_classes=120, image_size=16), ALL_NONE, 0.080456, 1.9534),
    (dict(num_classes=120, image_size=16), ALL_CONV3, 1.538696, 55.03756),
]


@pytest.mark.parametrize("sizes, arch, params_m, flops_m", PUBLISHED)
def test_parameters_and_flops_are_the_benchmarks(sizes, arch, params_m, flops_m):
    model = SPACE.to_module(SPACE.parse(arch), **sizes)
    assert count_parameters(model) == round(params_m * 1e6)
    # NB201 counts multiply-accumulates of convolutions and linear layers plus one add per bias
    # output, at one input image, in millions rounded to 5 decimals
    assert round(count_flops(model, model.example_inputs(1), bias=True) / 1e6, 5) == pytest.approx(flops_m, abs=1e-5)


# The best cell of CIFAR-10 and CIFAR-100 (arch-index 9930; 94.36 % and 73.51 % test accuracy), as
# the NAS-Bench-201 API prints it: its query log is kept in D-X-Y/AutoDL-Projects,
# xautodl/models/cell_searchs/genotypes.py ("Params=1.289 MB", "FLOP=184.73 M", ...), in millions
# rounded to 3 (params) and 2 (FLOPs) decimals.
BEST_CIFAR = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
PRINTED = [
    (dict(num_classes=10), 1.289, 184.73),
    (dict(num_classes=100), 1.294, 184.74),
    (dict(num_classes=120, image_size=16), 1.296, 46.19),
]


@pytest.mark.parametrize("sizes, params_m, flops_m", PRINTED)
def test_the_best_cifar_cell_has_the_benchmarks_size(sizes, params_m, flops_m):
    model = SPACE.to_module(SPACE.parse(BEST_CIFAR), **sizes)
    assert round(count_parameters(model) / 1e6, 3) == params_m
    assert round(count_flops(model, model.example_inputs(1), bias=True) / 1e6, 2) == flops_m


def test_every_op_reaches_the_output_and_trains():
    torch.manual_seed(0)
    arch = SPACE.parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")
    model = SPACE.to_module(arch, num_classes=7, channels=4, cells_per_stage=1)
    x = model.example_inputs(3)[0].requires_grad_()
    out = model(*[x])
    assert out.shape == (3, 7)
    out.square().sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert x.grad.abs().sum() > 0


def test_a_cell_whose_output_is_cut_off_outputs_zeros_after_the_stem():
    model = SPACE.to_module(SPACE.parse(ALL_NONE), channels=4, cells_per_stage=1).eval()
    first_cell = model.cells[0]
    assert torch.equal(first_cell(torch.randn(2, 4, 8, 8)), torch.zeros(2, 4, 8, 8))


@pytest.mark.parametrize("sizes, message", [
    (dict(channels=0), "channels must be at least 1"),
    (dict(cells_per_stage=-1), "cells_per_stage must be at least 1"),
    (dict(channels=2.5), "channels must be an int"),
    (dict(image_size=2), "too small"),
    (dict(num_classes=0), "num_classes must be at least 1"),
])
def test_bad_sizes_are_refused(sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SPACE.to_module(SPACE.parse(ALL_CONV3), **sizes)


def test_unknown_size_argument_is_refused():
    with pytest.raises(TypeError, match="widht"):
        SPACE.to_module(SPACE.parse(ALL_CONV3), widht=3)

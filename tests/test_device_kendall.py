"""Kendall τ-b on the device (item-parallel and sweep algorithms, CUDA or the host twin)
against the CPU kernel."""
from __future__ import annotations

import math
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
from helpers import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n,levels", [(0, 3), (1, 3), (2, 2), (50, 3), (300, 1000), (257, 1), (2000, 40)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("algorithm", ["item_parallel", "sweep"])
def test_kendall_tau_matches_cpu(backend, n, levels, dtype, algorithm, monkeypatch):
    # The sweep takes every input when the item-parallel limit is 0.
    monkeypatch.setattr(fastrank.metrics, "KENDALL_ITEM_PARALLEL_MAX", 1 << 16 if algorithm == "item_parallel" else 0)
    gen = torch.Generator().manual_seed(n + levels)
    x = torch.randint(0, levels, (n,), generator=gen).to(dtype)
    y = (x + torch.randint(0, 3, (n,), generator=gen)).to(dtype)
    if levels > 100:  # mostly distinct values, some negative zeros among the zeros
        x, y = x - levels / 2, y.flip(0) - levels / 2
        x[x == 0] = -0.0
    expected = fastrank.metrics.kendall_tau(x.numpy(), y.numpy())
    if backend == "twin":
        got = fastrank.metrics._kendall_on_device(x, y)
    else:
        got = fastrank.metrics.kendall_tau(x.cuda(), y.cuda())
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@given(n=st.integers(0, 400), x_levels=st.integers(1, 500), y_levels=st.integers(1, 500),
       seed=st.integers(0, 2**31 - 1))
def test_kendall_tau_sweep_matches_cpu_on_random_ties(backend, n, x_levels, y_levels, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, x_levels, (n,), generator=gen).double() / 7
    y = torch.randint(0, y_levels, (n,), generator=gen).double() - x * (seed % 3)
    expected = fastrank.metrics.kendall_tau(x.numpy(), y.numpy())
    with mock.patch.object(fastrank.metrics, "KENDALL_ITEM_PARALLEL_MAX", 0):
        got = fastrank.metrics._kendall_on_device(x if backend == "twin" else x.cuda(),
                                                  y if backend == "twin" else y.cuda())
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-12, abs=1e-12)

"""Every CPU vector target (AVX-512, AVX2 + FMA, baseline x86-64) this build and CPU can run
gives the float64 reference's results, and the target can be chosen and reported."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import fastrank
import reference as ref
from fastrank import losses as L
from test_gcn_predictor import CONFIGS
from test_gcn_predictor import test_train_step_equals_torch_step_float64 as check_train_step
from helpers import DEFAULT_PARAMS, check_logistic_math, compare, compare_calls


@pytest.fixture(params=fastrank.cpu_targets())
def target(request):
    before = fastrank.cpu_target()
    fastrank.set_cpu_target(request.param)
    yield request.param
    fastrank.set_cpu_target(before)


def ragged(sizes, levels, seed):
    gen = torch.Generator().manual_seed(seed)
    n = sum(sizes)
    s = torch.randint(-8, 9, (n,), generator=gen).double() / 4  # exact ties and s_b + m == s_a
    s[::3] = torch.randn(len(s[::3]), generator=gen, dtype=torch.float64)
    y = torch.randint(0, levels, (n,), generator=gen).double()
    return s, y


# Lengths on both sides of the hinge's direct/sweep switch (40), of the vector widths, and
# of the size where one list's pair loop is split across threads (512).
SIZES = [[1, 2, 3, 5, 8, 31, 32, 33, 40], [41, 64, 7], [600, 3, 513]]


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"{len(s)}-lists")
@pytest.mark.parametrize("op", ["hinge", "squared_hinge", "logistic", "lambdarank", "lambdarank_hinge"])
def test_ranking_ops_match_the_reference_on_every_target(target, op, sizes):
    s, y = ragged(sizes, 5, seed=len(sizes))
    for weighted in (False, True) if "hinge" in op and "lambdarank" not in op else (False,):
        compare(op, s, y, {**DEFAULT_PARAMS, "margin": 0.5, "weighted": weighted, "k": 10}, group_sizes=sizes)


@pytest.mark.parametrize("normalize", [True, False])
def test_warp_rank_weights_match_the_reference_on_every_target(target, normalize):
    sizes = SIZES[0] + SIZES[1]
    s, y = ragged(sizes, 4, seed=7)
    compare_calls(lambda a, b, **kw: L.warp(a, b, 0.6, normalize, **kw),
                  lambda a, b, **kw: ref.zoo("warp", a, b, margin=0.6, normalize=normalize, **kw), s, y,
                  group_sizes=sizes)


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 2e-15), (torch.float32, 1e-6)])
def test_logistic_math_is_accurate_on_every_target(target, dtype, rtol):
    check_logistic_math(dtype, rtol)


def test_gcn_train_step_and_adam_match_torch_on_every_target(target):
    for config in CONFIGS[:4]:
        check_train_step(config)


def test_float32_results_agree_across_targets():
    s, y = ragged([700, 30, 30, 100], 6, seed=11)
    s, y = s.float(), y.float()
    before = fastrank.cpu_target()
    results = {}
    try:
        for name in fastrank.cpu_targets():
            fastrank.set_cpu_target(name)
            x = s.clone().requires_grad_(True)
            loss = (fastrank.pairwise_logistic(x, y, group_sizes=[700, 30, 30, 100])
                    + fastrank.lambdarank(x, y, group_sizes=[700, 30, 30, 100])
                    + fastrank.pairwise_hinge(x, y, group_sizes=[700, 30, 30, 100]))
            loss.backward()
            results[name] = (loss.detach(), x.grad)
    finally:
        fastrank.set_cpu_target(before)
    base_loss, base_grad = results["baseline"]
    for loss, grad in results.values():
        torch.testing.assert_close(loss, base_loss, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grad, base_grad, rtol=1e-4, atol=1e-6)


def test_target_api():
    usable = fastrank.cpu_targets()
    assert usable[-1] == "baseline" and fastrank.cpu_target() == usable[0]  # the widest by default
    with pytest.raises(TypeError, match="str"):
        fastrank.set_cpu_target(2)
    with pytest.raises(ValueError, match="one of avx512, avx2, baseline"):
        fastrank.set_cpu_target("sse9")
    for name in {"avx512", "avx2"} - set(usable):
        with pytest.raises(ValueError, match="not usable here"):
            fastrank.set_cpu_target(name)
    assert fastrank.cpu_target() == usable[0]  # a refused call changes nothing


def _import_with(target):
    env = {**os.environ, "FASTRANK_CPU_TARGET": target}
    return subprocess.run([sys.executable, "-c", "import fastrank; print(fastrank.cpu_target())"], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_environment_variable_selects_the_target():
    done = _import_with("baseline")
    assert done.returncode == 0 and done.stdout.strip() == "baseline", done.stderr
    bad = _import_with("sse9")
    assert bad.returncode != 0 and "FASTRANK_CPU_TARGET='sse9' is not usable here" in bad.stderr

"""The CUDA kernels on the GPU (skipped without one): each op against the dense plain-torch
reference on the same GPU and against torch.sort of the same n, in the same run. Every timed
call ends with a device synchronisation, so the times are wall-clock GPU times."""
from __future__ import annotations

import pytest
import torch

import fastrank
import reference as ref
from bench_utils import run

pytestmark = pytest.mark.skipif(not fastrank.cuda_available(), reason="no usable CUDA device")


def synced(fn):
    def call():
        out = fn()
        torch.cuda.synchronize()
        return out

    return call


def loss_and_grad_cuda(loss_fn, scores, *args, **kwargs):
    leaf = scores.detach().clone().requires_grad_(True)

    def step():
        leaf.grad = None
        loss_fn(leaf, *args, **kwargs).backward()

    return synced(step)


def gpu_list(n, levels=5, dtype=torch.float32):
    gen = torch.Generator(device="cuda").manual_seed(0)
    s = torch.randn(n, generator=gen, device="cuda", dtype=dtype)
    y = torch.randint(0, levels, (n,), generator=gen, device="cuda").to(dtype)
    return s, y


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch"])
def test_cuda_hinge_many_small_lists(benchmark, impl):
    n_lists, length = 10_000, 32
    s, y = gpu_list(n_lists * length)
    s, y = s.reshape(n_lists, length), y.reshape(n_lists, length)
    fn = fastrank.pairwise_hinge if impl == "fastrank" else ref.dense_batched_hinge
    run(benchmark, "CUDA pairwise hinge, 10,000 lists x 32", impl, n_lists * length, loss_and_grad_cuda(fn, s, y))
    # The least memory traffic of the call: scores and targets read, gradient written once.
    benchmark.extra_info["min_bytes"] = 3 * s.numel() * s.element_size()


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch", "torch_sort"])
def test_cuda_hinge_n4000(benchmark, impl):
    s, y = gpu_list(4000)
    if impl == "torch_sort":
        fn = synced(lambda: torch.sort(s))
    else:
        fn = loss_and_grad_cuda(fastrank.pairwise_hinge if impl == "fastrank"
                                else (lambda a, b: ref.pairwise(a, b, "hinge")), s, y)
    run(benchmark, "CUDA pairwise hinge, 1 list, n=4,000", impl, 4000, fn)


@pytest.mark.parametrize("impl", ["fastrank", "torch_sort"])
@pytest.mark.parametrize("n", [10**5, 10**7])
@pytest.mark.parametrize("levels", [5, None], ids=["5_levels", "distinct_targets"])
def test_cuda_hinge_one_long_list(benchmark, impl, n, levels):
    # Past DEVICE_LIST_MAX items the O(n log n) device sweep runs: one pass per bit of the
    # target level, so 5 levels take 3 passes and distinct targets log2(n).
    s, y = gpu_list(n, levels) if levels else (gpu_list(n)[0], torch.rand(n, device="cuda"))
    fn = synced(lambda: torch.sort(s)) if impl == "torch_sort" else loss_and_grad_cuda(fastrank.pairwise_hinge, s, y)
    label = f"{levels} target levels" if levels else "distinct targets"
    run(benchmark, f"CUDA pairwise hinge, 1 list, n={n:,}, {label}", impl, n, fn, slow=True)


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch", "torch_sort"])
@pytest.mark.parametrize("n", [10**4, 10**6])
def test_cuda_kendall_tau(benchmark, impl, n):
    if impl == "dense_torch" and n > 10**4:
        pytest.skip("the dense (n, n) reference does not fit at this n")
    s, y = gpu_list(n, levels=100)
    if impl == "torch_sort":
        fn = synced(lambda: torch.sort(s))
    else:  # each returns a host float or syncs: timed to the end of the GPU work
        fn = (lambda: fastrank.metrics.kendall_tau(s, y)) if impl == "fastrank" else synced(
            lambda: ref.kendall_tau_b(s, y))
    run(benchmark, f"CUDA Kendall tau-b, n={n:,}", impl, n, fn, slow=n > 10**4)


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch"])
def test_cuda_logistic_n4000(benchmark, impl):
    s, y = gpu_list(4000)
    fn = fastrank.pairwise_logistic if impl == "fastrank" else (lambda a, b: ref.pairwise(a, b, "logistic"))
    run(benchmark, "CUDA pairwise logistic, 1 list, n=4,000", impl, 4000, loss_and_grad_cuda(fn, s, y))


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch"])
@pytest.mark.parametrize("k", [10, None])
def test_cuda_lambdarank_n4000(benchmark, impl, k):
    s, y = gpu_list(4000)
    fn = fastrank.lambdarank if impl == "fastrank" else ref.lambdarank
    run(benchmark, f"CUDA lambdarank, 1 list, n=4,000, k={k}", impl, 4000, loss_and_grad_cuda(fn, s, y, k))


@pytest.mark.parametrize("impl", ["fastrank", "plain_torch"])
def test_cuda_gcn_propagation_all_nb201(benchmark, impl):
    from fastrank.graph import encode_codes
    from fastrank.spaces import NASBench201

    adj, _, _ = encode_codes(NASBench201(), torch.arange(15625).cuda())
    h = torch.randn(adj.shape[0], adj.shape[1], 64, device="cuda")
    if impl == "fastrank":
        fn = lambda x: fastrank.graph.gcn_propagate(x, adj)  # noqa: E731
    else:
        eye = torch.eye(adj.shape[1], device="cuda")
        fwd, bwd = adj + eye, adj.transpose(1, 2) + eye
        fn = lambda x: torch.relu(0.5 * (fwd / fwd.sum(2, keepdim=True)) @ x  # noqa: E731
                                  + 0.5 * (bwd / bwd.sum(2, keepdim=True)) @ x)
    run(benchmark, "CUDA GCN propagation (fwd + bwd), all NB201, width 64", impl, adj.shape[0],
        loss_and_grad_cuda(lambda x: fn(x).sum(), h))

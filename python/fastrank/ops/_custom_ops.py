"""torch.library registrations of the native list kernels.

Each op maps (scores, targets, offsets, reduction, hyperparameters) to (loss, grad): the
reduced loss (one value per list for reduction "none", else a scalar) and ∂Σloss/∂scores
from the same native pass. Backward scales the stored gradient by the incoming gradient
(of each item's list, for "none"), so it costs one multiply.
"""
from __future__ import annotations

import torch

from .. import _C, _native
from .._checks import check_number

_LIST_OUTPUTS = "-> (Tensor loss, Tensor grad)"
_LIST_INPUTS = "Tensor scores, Tensor targets, Tensor offsets, int reduction"

REDUCTION_TAGS = {"none": 0, "sum": 1, "mean": 2}

_SCHEMAS = {
    "pairwise_hinge": f"({_LIST_INPUTS}, float margin, bool squared, bool weighted, int rank_weight) {_LIST_OUTPUTS}",
    "pairwise_logistic": f"({_LIST_INPUTS}, float sigma) {_LIST_OUTPUTS}",
    "lambdarank": f"({_LIST_INPUTS}, int k, int gain, int pair_loss, float sigma, float margin) {_LIST_OUTPUTS}",
}


def _check_raw(scores: torch.Tensor, targets: torch.Tensor, offsets: torch.Tensor, reduction: int) -> None:
    """Guards the raw-pointer boundary for direct callers of torch.ops.fastrank.*.

    Only metadata is read here; the offsets' values are checked natively.
    """
    if scores.dtype not in _native.DTYPE_TAGS:
        raise TypeError(f"scores must be float32 or float64, got {scores.dtype}")
    if targets.dtype != scores.dtype:
        raise TypeError(f"targets must have the dtype of scores ({scores.dtype}), got {targets.dtype}")
    if offsets.dtype != torch.int64:
        raise TypeError(f"offsets must be int64, got {offsets.dtype}")
    for name, t in (("scores", scores), ("targets", targets), ("offsets", offsets)):
        if t.dim() != 1 or not t.is_contiguous():
            raise ValueError(f"{name} must be a contiguous 1-D tensor")
        if t.device != scores.device:
            raise ValueError(f"{name} is on {t.device} but scores is on {scores.device}")
    if targets.shape[0] != scores.shape[0]:
        raise ValueError(f"targets has {targets.shape[0]} items but scores has {scores.shape[0]}")
    if offsets.shape[0] < 1:
        raise ValueError("offsets needs at least one entry")
    if offsets.shape[0] == 1 and scores.shape[0] > 0:  # no list, yet items: known without reading offsets
        _native.check_status(_C.STATUS_BAD_OFFSETS, "list")
    if reduction not in (0, 1, 2):
        raise ValueError(f"reduction tag must be 0 (none), 1 (sum) or 2 (mean), got {reduction}")


def _finite(value, name: str, positive: bool) -> None:
    check_number(value, name, f"a finite number {'> 0' if positive else '>= 0'}", low=0, low_open=positive)


def _check_hyper(name: str, hyper) -> None:
    """The raw ops' scalar arguments, checked as the public wrappers check them, for direct
    callers of torch.ops.fastrank.* (the kernels trust them)."""
    if name == "pairwise_hinge":
        margin, _squared, _weighted, rank_weight = hyper
        _finite(margin, "margin", positive=False)
        if rank_weight not in (0, 1, 2):
            raise ValueError(f"rank_weight tag must be 0, 1 or 2, got {rank_weight}")
    elif name == "pairwise_logistic":
        _finite(hyper[0], "sigma", positive=True)
    elif name == "lambdarank":
        k, gain, pair_loss, sigma, margin = hyper
        if k != -1 and k < 1:
            raise ValueError(f"k must be at least 1 (or -1 for the whole list), got {k}")
        if gain not in (0, 1) or pair_loss not in (0, 1, 2):
            raise ValueError(f"gain tag must be 0 or 1 and pair_loss tag 0, 1 or 2, got {gain} and {pair_loss}")
        _finite(sigma, "sigma", positive=True)
        _finite(margin, "margin", positive=False)


# The item-parallel device kernels spend O(n²) on a list. Beyond this length the pairwise
# hinge takes its O(n log n) device sweep (src/cuda/hinge_sweep_device.h), LambdaRank truncated
# at k its O(n·k) device algorithm (lambdarank_topk_device.h), and the untruncated LambdaRank
# with a hinge pair loss its O(n log n) CPU kernel; the untruncated logistic one is O(n²) anyway.
DEVICE_LIST_MAX = 1 << 16


def _long_list_route(name: str, hyper) -> str | None:
    """Where a list longer than DEVICE_LIST_MAX goes: a device op, "cpu", or None (stay)."""
    if name == "pairwise_hinge":
        return "pairwise_hinge_sweep"
    if name == "lambdarank":
        k, _gain, pair_loss = hyper[:3]
        if k > 0:
            return "lambdarank_topk"
        return "cpu" if pair_loss != 0 else None
    return None


def _longest_list(offsets: torch.Tensor, n_items: int) -> int:
    """The longest list when it may exceed DEVICE_LIST_MAX, else 0 (also inside a CUDA graph
    capture, where reading it would synchronise: captured steps keep the item-parallel kernels)."""
    if n_items <= DEVICE_LIST_MAX or offsets.shape[0] < 2 or _native.capturing(offsets.device):
        return 0
    return int(offsets.diff().max())


def _run(name: str, kernel: str, scores, targets, offsets, reduction, *hyper):
    """Op `name` on the C++ kernel (kernel "cpu") or on the device algorithm (kernel "device":
    CUDA kernels for CUDA tensors, their host twin for CPU ones). The kernels check the
    values they read (NaN/inf, the offsets) and report through a status word; the device
    algorithms clamp bad offsets before indexing with them, so no check has to wait for the GPU."""
    _check_raw(scores, targets, offsets, reduction)
    _check_hyper(name, hyper)
    if name == "lambdarank" and targets.numel() and bool((targets < 0).any()):
        # here rather than in the wrapper: inside the op, torch.compile sees no data-dependent branch
        raise ValueError("lambdarank targets are relevance grades and must be non-negative")
    device_op, extra = name, ()
    if kernel == "device":
        longest = _longest_list(offsets, scores.shape[0])
        route = _long_list_route(name, hyper) if longest > DEVICE_LIST_MAX else None
        if route == "cpu" and scores.is_cuda:
            loss, grad = _run(name, "cpu", scores.cpu(), targets.cpu(), offsets.cpu(), reduction, *hyper)
            return loss.to(scores.device), grad.to(scores.device)
        if route not in (None, "cpu"):
            device_op, extra = route, (longest,)
    n_lists = offsets.shape[0] - 1
    loss = scores.new_empty(n_lists if reduction == 0 else ())
    grad = torch.empty_like(scores)
    status = _native.call(device_op, kernel, scores.device, _native.dtype_tag(scores.dtype), scores, targets, offsets,
                          n_lists, scores.shape[0], reduction, *hyper, loss, grad, *extra)
    if status:
        _native.check_status(status, name)
    return loss, grad


def _fake(scores, targets, offsets, reduction, *hyper):
    return scores.new_empty(offsets.shape[0] - 1 if reduction == 0 else ()), torch.empty_like(scores)


def _setup_context(ctx, inputs, output):
    ctx.save_for_backward(output[1], inputs[2])
    ctx.per_list = inputs[3] == 0
    ctx.n_hyper = len(inputs) - 4


def _backward(ctx, d_loss, d_grad):
    grad, offsets = ctx.saved_tensors
    if torch.is_grad_enabled():
        # The kernels return first derivatives only; a silent zero second derivative
        # would be wrong for the squared and logistic losses.
        raise RuntimeError("fastrank ranking ops do not support double backward (create_graph=True)")
    if (getattr(ctx, "eager", False) and not ctx.per_list and d_loss.device.type == "cpu"
            and float(d_loss) == 1.0):
        # loss.backward() on the loss itself: the kernel's gradient is the answer. Skipping the
        # multiply also keeps torch's intra-op threads from spinning (they wake for a large
        # elementwise op) while the next call's kernel wants the same cores.
        d_scores = grad
    elif ctx.per_list:
        d_scores = torch.repeat_interleave(d_loss, offsets.diff(), output_size=grad.shape[0]) * grad
    else:
        d_scores = d_loss * grad
    return (d_scores, None, None, None) + (None,) * ctx.n_hyper


_LIST_OPS = {name: _native.define_op(name, schema, lambda kernel, *inputs, name=name: _run(name, kernel, *inputs),
                                     _fake, setup_context=_setup_context, backward=_backward)
             for name, schema in _SCHEMAS.items()}


def list_loss(name: str, scores, targets, offsets, reduction: int, *hyper) -> torch.Tensor:
    """Op `name`'s loss: the registered ``torch.ops.fastrank.<name>`` when tracing or on another
    device type, its eager twin in eager CPU and CUDA code (see _native.define_op)."""
    return _LIST_OPS[name](scores, targets, offsets, reduction, *hyper)

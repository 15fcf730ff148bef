"""torch.library registrations of the native list kernels.

Each op maps (scores, targets, offsets, hyperparameters) to
(list_loss, grad, list_pairs): per-list pair sums, ∂Σlist_loss/∂scores computed in the
same native pass, and per-list pair counts. Autograd scales the stored gradient by the
incoming gradient of each item's list, so backward costs one gather.
"""
from __future__ import annotations

import torch

from .. import _C

_LIB = torch.library.Library("fastrank", "DEF")

_LIST_OUTPUTS = "-> (Tensor list_loss, Tensor grad, Tensor list_pairs)"
_LIST_INPUTS = "Tensor scores, Tensor targets, Tensor offsets"

_SCHEMAS = {
    "pairwise_hinge": f"({_LIST_INPUTS}, float margin, bool squared, bool weighted) {_LIST_OUTPUTS}",
    "pairwise_logistic": f"({_LIST_INPUTS}, float sigma) {_LIST_OUTPUTS}",
    "lambdarank": f"({_LIST_INPUTS}, int k, int gain, int pair_loss, float sigma, float margin) {_LIST_OUTPUTS}",
}

_DTYPE_TAG = {torch.float32: 0, torch.float64: 1}


def _raise_for_status(status: int) -> None:
    if status & _C.STATUS_NONFINITE_SCORES:
        raise ValueError("scores contain NaN or infinity")
    if status & _C.STATUS_NONFINITE_TARGETS:
        raise ValueError("targets contain NaN or infinity")
    if status & _C.STATUS_GAIN_OVERFLOW:
        raise ValueError(
            "targets above 1000 overflow the exp2 gain 2**y - 1; use gain='linear' or map the "
            "targets to relevance grades first"
        )
    if status:
        raise RuntimeError(f"fastrank kernel returned unknown status {status}")


def _check_raw(scores: torch.Tensor, targets: torch.Tensor, offsets: torch.Tensor) -> None:
    """Guards the raw-pointer boundary for direct callers of torch.ops.fastrank.*."""
    if scores.dtype not in _DTYPE_TAG:
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
    if targets.numel() != scores.numel():
        raise ValueError(f"targets has {targets.numel()} items but scores has {scores.numel()}")
    if offsets.numel() < 1 or int(offsets[0]) != 0 or int(offsets[-1]) != scores.numel():
        raise ValueError("offsets must start at 0 and end at the number of items")
    if offsets.numel() > 1 and bool((offsets[1:] < offsets[:-1]).any()):
        raise ValueError("offsets must be non-decreasing")


def _run_cpu(kernel, scores, targets, offsets, *hyper):
    _check_raw(scores, targets, offsets)
    n_lists = offsets.numel() - 1
    list_loss = scores.new_empty(n_lists)
    grad = torch.empty_like(scores)
    list_pairs = scores.new_empty(n_lists)
    status = kernel(
        _DTYPE_TAG[scores.dtype], scores.data_ptr(), targets.data_ptr(), offsets.data_ptr(), n_lists,
        *hyper, list_loss.data_ptr(), grad.data_ptr(), list_pairs.data_ptr(),
    )
    _raise_for_status(status)
    return list_loss, grad, list_pairs


def _fake(scores, targets, offsets, *hyper):
    n_lists = offsets.shape[0] - 1
    return scores.new_empty(n_lists), torch.empty_like(scores), scores.new_empty(n_lists)


def _setup_context(ctx, inputs, output):
    _, grad, _ = output
    ctx.save_for_backward(grad, inputs[2])
    ctx.n_hyper = len(inputs) - 3


def _backward(ctx, d_list_loss, d_grad, d_list_pairs):
    if torch.is_grad_enabled():
        # The kernels return first derivatives only; a silent zero second derivative
        # would be wrong for the squared and logistic losses.
        raise RuntimeError("fastrank ranking ops do not support double backward (create_graph=True)")
    grad, offsets = ctx.saved_tensors
    per_item = torch.repeat_interleave(d_list_loss, offsets.diff(), output_size=grad.shape[0])
    return (per_item * grad, None, None) + (None,) * ctx.n_hyper


def _register(name: str, cpu_kernel) -> None:
    qualname = f"fastrank::{name}"
    _LIB.define(name + _SCHEMAS[name])
    _LIB.impl(name, lambda *args: _run_cpu(cpu_kernel, *args), "CPU")
    torch.library.register_fake(qualname, _fake, lib=_LIB)
    torch.library.register_autograd(qualname, _backward, setup_context=_setup_context, lib=_LIB)


_register("pairwise_hinge", _C.pairwise_hinge_cpu)
_register("pairwise_logistic", _C.pairwise_logistic_cpu)
_register("lambdarank", _C.lambdarank_cpu)

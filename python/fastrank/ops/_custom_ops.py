"""torch.library registrations of the native list kernels, each from its :class:`OpSpec`.

Each op maps (scores, targets, offsets, reduction, hyperparameters) to (loss, grad): the
reduced loss (one value per list for reduction "none", else a scalar) and ∂Σloss/∂scores
from the same native pass. Backward scales the stored gradient by the incoming gradient
(of each item's list, for "none"), so it costs one multiply.

An op is declared once, as an :class:`OpSpec` beside its public function (``define_list_op``
registers it): its name, its hyperparameters (:class:`Hyper`: schema type, check, option tag),
what it checks of the targets, where long lists go on a device, and its dense reference for the
tests. Its schema, the raw op's scalar checks, the public functions' argument checks
(:meth:`OpSpec.loss`) and the tests' tables follow from it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Callable, Mapping, Optional

import torch

from .. import _native
from .packing import check_fits, check_real, check_reduction, pack_lists

_LIST_OUTPUTS = "-> (Tensor loss, Tensor grad)"
_LIST_INPUTS = "Tensor scores, Tensor targets, Tensor offsets, int reduction"
_PER_LIST = _native.TAGS["reduction"]["none"]  # the reduction tag that keeps one loss per list


# ---------------------------------------------------------------------------------------------
# declarations

@dataclass(frozen=True)
class Hyper:
    """One hyperparameter of a list op: its name and type in the op's schema, the check of its
    value, and the values the tests try (the first is its default there)."""

    name: str
    type: str  # its schema type: "float", "int" or "bool"
    check: Callable[[Any, str], Any]  # check(value, name) -> the value the kernel takes, or raises
    samples: tuple = ()
    tags: Optional[Mapping[str, int]] = None  # an option tag's {name: int} (_native.TAGS)
    public: Optional[str] = None  # its name in the public functions, where that differs
    in_score_dtype: bool = False  # the kernels compute with it in the scores' dtype: it must fit there

    @classmethod
    def real(cls, name: str, *, positive: bool = False, samples: tuple, in_score_dtype: bool = False) -> "Hyper":
        """A finite real number, >= 0 (or > 0 when positive)."""
        return cls(name, "float", functools.partial(check_real, positive=positive), samples,
                   in_score_dtype=in_score_dtype)

    @classmethod
    def flag(cls, name: str, *, public: Optional[str] = None) -> "Hyper":
        return cls(name, "bool", _check_bool, (False, True), public=public)

    @classmethod
    def tag(cls, option: str) -> "Hyper":
        """An option tag of kernels.h: the raw op takes its int, the public functions its name."""
        tags = _native.TAGS[option]
        return cls(option, "int", lambda value, name: _native.check_tag(option, value), tuple(tags), tags)

    def accept(self, value):
        """The value as the public functions pass it (an option tag by name), checked and converted
        to what the raw op takes."""
        if self.tags is not None:
            return _native.tag(self.name, value)
        return self.check(value, self.public or self.name)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_cutoff(value, name: str) -> int:
    """A list cutoff as the kernels take it: an int >= 1, or -1 for the whole list."""
    if type(value) is int and (value >= 1 or value == -1):
        return value  # the common case, without abstract type tests: this runs on every op call
    if isinstance(value, bool) or not isinstance(value, (Integral, torch.SymInt)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value != -1 and value < 1:
        raise ValueError(f"{name} must be at least 1 (or -1 for the whole list), got {value}")
    return value


# Hyperparameters that several list ops share, with one meaning.
MARGIN = Hyper.real("margin", samples=(1.0, 0.0, 0.5), in_score_dtype=True)  # a hinge margin
SIGMA = Hyper.real("sigma", positive=True, samples=(1.0, 0.5, 3.0))  # a logistic steepness


@dataclass(frozen=True)
class OpSpec:
    """A native list op ``torch.ops.fastrank.<name>``, declared once.

    reference: "module:function" of its dense float64 reference, which the tests import (from
    tests/); it takes (scores, targets, *, group_sizes, mask, reduction) and the hyperparameters
    by name, option tags by their names, and differentiates with autograd.
    check_targets: a check of the targets' values beyond finiteness, run by the op itself.
    long_list_route: for device calls with a list longer than DEVICE_LIST_MAX, given the
    hyperparameters by name (tags as ints): the device op that takes it, "cpu" (the CPU kernel,
    on copies), or None (the op's own device algorithm).
    """

    name: str
    hypers: tuple
    reference: str
    check_targets: Optional[Callable[[torch.Tensor], None]] = None
    long_list_route: Optional[Callable[..., Optional[str]]] = None

    @property
    def schema(self) -> str:
        hypers = "".join(f", {h.type} {h.name}" for h in self.hypers)
        return f"({_LIST_INPUTS}{hypers}) {_LIST_OUTPUTS}"

    @property
    def op(self):
        """The registered ``torch.ops.fastrank.<name>.default``."""
        return getattr(torch.ops.fastrank, self.name).default

    def check_raw(self, values: tuple) -> None:
        """The raw op's hyperparameters (schema order), checked as the public functions check them:
        direct callers of torch.ops.fastrank.* reach kernels that trust them."""
        for h, value in zip(self.hypers, values):
            h.check(value, h.name)

    def arguments(self, **hyper) -> tuple:
        """The raw op's hyperparameter arguments, in schema order, from values by name (option tags
        by their names), checked as :meth:`Hyper.accept` checks them."""
        if len(hyper) != len(self.hypers) or any(h.name not in hyper for h in self.hypers):
            expected = [h.name for h in self.hypers]
            raise TypeError(f"{self.name} takes the hyperparameters {expected}, got {list(hyper)}")
        return tuple([h.accept(hyper[h.name]) for h in self.hypers])

    def loss(self, scores, targets, group_sizes=None, mask=None, reduction: str = "mean", **hyper) -> torch.Tensor:
        """The op's loss on lists in either layout (:func:`packing.pack_lists`), with its
        hyperparameters by name: what the public functions call once they have mapped their own
        arguments."""
        tag = check_reduction(reduction)
        values = self.arguments(**hyper)
        lists = pack_lists(scores, targets, group_sizes, mask)
        for h, value in zip(self.hypers, values):
            if h.in_score_dtype:
                check_fits(value, h.public or h.name, lists.scores.dtype)
        return _DISPATCH[self.name](lists.scores, lists.targets, lists.offsets, tag, *values)


# ---------------------------------------------------------------------------------------------
# the op

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
        _native.check_status(_native.STATUS["bad_offsets"], "list")
    _native.check_tag("reduction", reduction)


# The item-parallel device kernels spend O(n²) on a list; past this length a device call takes
# the op's long_list_route (OpSpec).
DEVICE_LIST_MAX = 1 << 16


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
    spec = LIST_OPS[name]
    _check_raw(scores, targets, offsets, reduction)
    spec.check_raw(hyper)
    if spec.check_targets is not None and targets.numel():
        # here rather than in the wrapper: inside the op, torch.compile sees no data-dependent branch
        spec.check_targets(targets)
    device_op, extra = name, ()
    if kernel == "device" and spec.long_list_route is not None:
        longest = _longest_list(offsets, scores.shape[0])
        route = None
        if longest > DEVICE_LIST_MAX:
            route = spec.long_list_route(**{h.name: value for h, value in zip(spec.hypers, hyper)})
        if route == "cpu" and scores.is_cuda:
            loss, grad = _run(name, "cpu", scores.cpu(), targets.cpu(), offsets.cpu(), reduction, *hyper)
            return loss.to(scores.device), grad.to(scores.device)
        if route not in (None, "cpu"):
            device_op, extra = route, (longest,)
    n_lists = offsets.shape[0] - 1
    loss = scores.new_empty(n_lists if reduction == _PER_LIST else ())
    grad = torch.empty_like(scores)
    status = _native.call(device_op, kernel, scores.device, _native.dtype_tag(scores.dtype), scores, targets, offsets,
                          n_lists, scores.shape[0], reduction, *hyper, loss, grad, *extra)
    if status:
        _native.check_status(status, name)
    return loss, grad


def _fake(scores, targets, offsets, reduction, *hyper):
    return scores.new_empty(offsets.shape[0] - 1 if reduction == _PER_LIST else ()), torch.empty_like(scores)


def _setup_context(ctx, inputs, output):
    ctx.save_for_backward(output[1], inputs[2])
    ctx.per_list = inputs[3] == _PER_LIST
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


# Every registered list op by name, and the function that calls it (see _native.define_op).
LIST_OPS: dict = {}
_DISPATCH: dict = {}


def define_list_op(spec: OpSpec) -> OpSpec:
    """Registers ``torch.ops.fastrank.<spec.name>`` (CPU and CUDA implementations, fake,
    autograd, eager twin) from its spec."""
    if spec.name in LIST_OPS:
        raise ValueError(f"list op {spec.name!r} is already defined")
    LIST_OPS[spec.name] = spec
    _DISPATCH[spec.name] = _native.define_op(spec.name, spec.schema, functools.partial(_run, spec.name), _fake,
                                             setup_context=_setup_context, backward=_backward)
    return spec

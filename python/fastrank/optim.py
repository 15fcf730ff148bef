"""Optimizers whose update runs in one native call.

    >>> optimizer = fastrank.optim.FusedAdam(model.parameters(), lr=1e-3)

``FusedAdam`` is ``torch.optim.Adam`` (same options, state, ``state_dict``, hooks and LR
schedulers) whose ``step`` updates every CPU float32/float64 parameter of the step in one C++
call instead of several torch ops per tensor: a NAS predictor has ~10^4 parameters in ~10
tensors, where the Python optimizer's per-op cost is most of the step. Anything else (CUDA
parameters, other dtypes, differentiable or capturable mode, a closure) goes to torch's Adam.
"""
from __future__ import annotations

import torch

from . import _C

__all__ = ["FusedAdam"]

_DTYPE_TAG = {torch.float32: 0, torch.float64: 1}


def _scalar(value) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


class FusedAdam(torch.optim.Adam):
    """``torch.optim.Adam`` with a native CPU update; see the module docstring.

    Takes ``torch.optim.Adam``'s arguments except ``foreach``/``fused``/``capturable``/
    ``differentiable``, which choose torch's own implementations.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        # decoupled_weight_decay is torch >= 2.6's; only passed when asked for
        extra = {"decoupled_weight_decay": True} if decoupled_weight_decay else {}
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, **extra)

    def step(self, closure=None):
        if closure is not None:
            return super().step(closure)
        for group in self.param_groups:
            if not self._native_group(group):
                self._torch_step(group)
        return None

    def _native_group(self, group) -> bool:
        """Updates the group natively if it can (True), else leaves it to torch (False).
        Written for few attribute reads: at ~10 tensors they are most of this call's time."""
        if group["capturable"] or group["differentiable"] or group["fused"] or group["foreach"]:
            return False
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return True
        grads = [p.grad for p in params]
        dtype = params[0].dtype
        if dtype not in _DTYPE_TAG:
            return False
        for p, g in zip(params, grads):
            if (p.dtype is not dtype or g.dtype is not dtype or not p.is_cpu or not g.is_cpu
                    or g.layout is not torch.strided or not p.is_contiguous() or not g.is_contiguous()):
                return False
        amsgrad = bool(group["amsgrad"])
        buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
        states = [self.state[p] for p in params]
        for p, state in zip(params, states):
            if len(state) == 0:
                # torch's lazy initialisation, so that either implementation can continue the other
                state["step"] = torch.tensor(0.0, dtype=torch.float64 if torch.get_default_dtype() == torch.float64
                                             else torch.float32)
                for key in buffers:
                    state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
        steps = [state["step"] for state in states]
        step_dtype = steps[0].dtype if isinstance(steps[0], torch.Tensor) else None
        if step_dtype not in _DTYPE_TAG:
            return False
        for step in steps:
            if (type(step) is not torch.Tensor or step.dtype is not step_dtype or not step.is_cpu or step.dim() != 0
                    or step.requires_grad):
                return False
        columns = []
        for key in buffers:
            column = [state.get(key) for state in states]
            for buf in column:
                if type(buf) is not torch.Tensor or buf.dtype is not dtype or not buf.is_cpu or not buf.is_contiguous():
                    return False
            columns.append([buf.data_ptr() for buf in column])
        beta1, beta2 = group["betas"]
        _C.adam_step_cpu(
            _DTYPE_TAG[dtype], [p.data_ptr() for p in params], [g.data_ptr() for g in grads], columns[0], columns[1],
            columns[2] if amsgrad else [], [p.numel() for p in params], [s.data_ptr() for s in steps],
            _DTYPE_TAG[step_dtype], _scalar(group["lr"]), _scalar(beta1), _scalar(beta2), _scalar(group["eps"]),
            _scalar(group["weight_decay"]), amsgrad, bool(group["maximize"]),
            bool(group.get("decoupled_weight_decay", False)))
        return True

    def _torch_step(self, group) -> None:
        """torch's Adam for one group: the other groups are hidden for the call. Once any
        torch.optim.Adam exists, its step carries the step hooks; those already ran for this
        call, so the function under them is called."""
        adam_step = torch.optim.Adam.step
        if getattr(adam_step, "hooked", False):
            adam_step = adam_step.__wrapped__
        groups = self.param_groups
        self.param_groups = [group]
        try:
            adam_step(self)
        finally:
            self.param_groups = groups

"""Optimizers whose update runs in one native call.

    >>> optimizer = fastrank.optim.FusedAdam(model.parameters(), lr=1e-3)

``FusedAdam`` is ``torch.optim.Adam`` (same options, state, ``state_dict``, hooks and LR
schedulers) whose ``step`` updates every CPU float32/float64 parameter of the step in one C++
call instead of several torch ops per tensor: a NAS predictor has ~10^4 parameters in ~10
tensors, where the Python optimizer's per-op cost is most of the step. Anything else (CUDA
parameters, other dtypes, differentiable or capturable mode, a closure) goes to torch's Adam.
"""
from __future__ import annotations

from operator import is_

import torch

from . import _native

__all__ = ["FusedAdam"]


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
        # id(param group) -> _Plan. Not in __init__: torch's __setstate__ (deepcopy, pickle)
        # restores only defaults, state and param_groups. Plans of groups that are gone
        # (load_state_dict makes new group dicts) are dropped, with the tensors they hold.
        plans = self.__dict__.setdefault("_plans", {})
        if len(plans) > len(self.param_groups) or any(id(g) not in plans for g in self.param_groups):
            live = {id(g) for g in self.param_groups}
            for key in [k for k in plans if k not in live]:
                del plans[key]
        for group in self.param_groups:
            if not self._native_group(group):
                self._torch_step(group)
        return None

    def _native_group(self, group) -> bool:
        """Updates the group natively if it can (True), else leaves it to torch (False)."""
        if group["capturable"] or group["differentiable"] or group["fused"] or group["foreach"]:
            return False
        params = group["params"]
        grads = [p.grad for p in params]
        plan = self._plans.get(id(group))  # set up by step()
        if plan is None or not plan.still_valid(params, grads, self.state, bool(group["amsgrad"])):
            plan = _Plan.build(self, group, params, grads)
            if plan is None:
                return False
            self._plans[id(group)] = plan
        if plan.count:
            beta1, beta2 = group["betas"]
            _native.call_cpu_prepared("adam_step", plan.tensors, _scalar(group["lr"]), _scalar(beta1), _scalar(beta2),
                                      _scalar(group["eps"]), _scalar(group["weight_decay"]), plan.amsgrad,
                                      bool(group["maximize"]), bool(group.get("decoupled_weight_decay", False)))
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


def _state_keys(amsgrad: bool):
    """torch's Adam state per parameter, in the order the plan keeps it."""
    return ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("step", "exp_avg", "exp_avg_sq")


class _Plan:
    """What the native update of one param group needs (addresses, sizes), built after a
    full check of every tensor and reused while the group's tensors are the same objects at
    the same addresses: at ~10 small tensors, re-checking every property each step cost
    more than the update itself."""

    __slots__ = ("params", "grads", "state", "slots", "amsgrad", "count", "tensors", "live",
                 "flat_addresses", "slot_dicts", "entry_dicts", "entry_keys", "entry_tensors")

    @staticmethod
    def build(opt, group, params, grads):
        with_grad = [(p, g) for p, g in zip(params, grads) if g is not None]
        amsgrad = bool(group["amsgrad"])
        plan = _Plan()
        plan.params, plan.grads, plan.state, plan.amsgrad = tuple(params), tuple(grads), opt.state, amsgrad
        plan.count = len(with_grad)
        plan.slots = ()
        plan.live = plan.flat_addresses = plan.slot_dicts = plan.entry_dicts = plan.entry_keys = plan.entry_tensors = ()
        if not with_grad:
            plan.tensors = ()
            return plan
        dtype = with_grad[0][0].dtype
        if dtype not in _native.DTYPE_TAGS:
            return None
        for p, g in with_grad:
            if (p.dtype is not dtype or g.dtype is not dtype or not p.is_cpu or not g.is_cpu
                    or g.layout is not torch.strided or not p.is_contiguous() or not g.is_contiguous()
                    or g.numel() != p.numel()):
                return None
        keys = _state_keys(amsgrad)
        slots = []
        for p, _ in with_grad:
            state = opt.state[p]
            if len(state) == 0:
                # torch's lazy initialisation, so that either implementation can continue the other
                state["step"] = torch.tensor(0.0, dtype=torch.float64 if torch.get_default_dtype() == torch.float64
                                             else torch.float32)
                for key in keys[1:]:
                    state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
            slots.append((state, *(state.get(key) for key in keys)))
        step_dtype = slots[0][1].dtype if isinstance(slots[0][1], torch.Tensor) else None
        if step_dtype not in _native.DTYPE_TAGS:
            return None
        for (p, _), (_, step, *buffers) in zip(with_grad, slots):
            if (type(step) is not torch.Tensor or step.dtype is not step_dtype or not step.is_cpu or step.dim() != 0
                    or step.requires_grad):
                return None
            for buf in buffers:
                if (type(buf) is not torch.Tensor or buf.dtype is not dtype or not buf.is_cpu
                        or not buf.is_contiguous() or buf.numel() != p.numel()):
                    return None
        plan.slots = tuple(slots)
        plan.live = tuple(t for pair in with_grad for t in pair)
        plan.flat_addresses = _native.addresses(plan.live)
        plan.slot_dicts = tuple(slot[0] for slot in slots)
        plan.entry_dicts = tuple(slot[0] for slot in slots for _ in keys)
        plan.entry_keys = tuple(key for _ in slots for key in keys)
        plan.entry_tensors = tuple(t for slot in slots for t in slot[1:])
        # the call's arguments, tensors as their addresses (converted once, while the plan holds)
        columns = [[slot[k] for slot in slots] for k in range(2, len(keys) + 1)]
        plan.tensors = _native.cpu_arguments(
            _native.dtype_tag(dtype), [p for p, _ in with_grad], [g for _, g in with_grad], columns[0], columns[1],
            columns[2] if amsgrad else [], [p.numel() for p, _ in with_grad], [slot[1] for slot in slots],
            _native.dtype_tag(step_dtype))
        return plan

    def still_valid(self, params, grads, state, amsgrad) -> bool:
        # map() keeps every comparison in C: this runs once per step, on a predictor's ~13 tensors
        if state is not self.state or amsgrad != self.amsgrad or len(params) != len(self.params):
            return False
        if not all(map(is_, params, self.params)) or not all(map(is_, grads, self.grads)):
            return False
        # .data or a state entry may have been replaced without changing the objects above
        if _native.addresses(self.live) != self.flat_addresses:
            return False
        if not all(map(is_, map(state.get, self.live[::2]), self.slot_dicts)):
            return False
        return all(map(is_, map(dict.get, self.entry_dicts, self.entry_keys), self.entry_tensors))

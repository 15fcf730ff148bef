"""Proxy-validation search, the differentiable variant (Li et al., TPAMI 2022): one α moved by
gradient descent down the fitted validation-loss landscape, sampled with OIW-scaled noise.
The method is described in :mod:`fastrank.search.proxy_validation`."""
from __future__ import annotations

from collections import deque
from typing import List

import numpy as np
import torch

from ..proxy_validation import ArchitectureParameters, Landscape, ProxyValidationOptions, draw_near
from ..relaxation import Relaxation, supports
from ..strategy import RandomStart, Strategy, register_strategy


class ProxyValidationBase(Strategy):
    """The random start, the FIFO memory (each result as its loss form, −value) and the refits,
    shared by both variants. A refit is due every ``refit_every`` results; α descends once after
    each refit. The first fit waits until the whole random start is back."""

    Options = ProxyValidationOptions
    loss_label = "MSE"  # the landscape is fitted by MSE; no loss to choose

    @classmethod
    def check_space(cls, space) -> None:
        if not supports(space):
            raise ValueError(f"{cls.name} relaxes nb201, tnb101_micro and nasbench-graph cells, not {space.name}")

    def __init__(self, context, options=None):
        super().__init__(context, options)
        self.relaxation = Relaxation(self.space)
        self.memory = deque(maxlen=self.options.memory)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.landscape = Landscape(self.relaxation, self.options, self.seed)
        self.since_fit = 0
        self.fitted = False
        self.descend_due = False
        self.start = RandomStart(self.options.n_init)
        self.starting: List = []  # the random start not handed out yet
        # the pool's architectures as decision values, for draw_near's fallback
        self.choices = np.asarray(self.pool.archs, dtype=np.int64) if self.pool.fixed else None

    def ask(self, n: int) -> List:
        out = []
        with self.history.holding() as hold:  # the draws within this ask must not propose these again
            while len(out) < n:
                if not self.start.started:
                    self.starting = self.start.draw(self)
                if self.starting:
                    arch = self.starting.pop(0)
                    if not self.history.seen(arch):
                        out.append(arch)
                        hold(arch)
                    continue
                if not self.fitted:
                    if not self.start.back(self.history) or not self.history.queries:
                        break  # the random start is still out
                    self.first_fit()
                arch = self.propose()
                if arch is None:
                    break
                out.append(arch)
                hold(arch)
        return out

    def tell(self, arch, value: float) -> None:
        self.remember(arch, value)

    def tell_failure(self, arch, error: str) -> None:
        self.remember(arch, self.history.failure_value_now())

    def remember(self, arch, value: float) -> None:
        self.memory.append((arch, -value))  # the landscape models the loss form of the metric
        self.since_fit += 1

    def refit_if_due(self, force: bool = False) -> bool:
        if force or self.since_fit >= self.options.refit_every:
            archs, losses = zip(*self.memory)
            self.landscape.fit(list(archs), np.array(losses, dtype=np.float64))
            self.since_fit = 0
            self.descend_due = True
            return True
        return False

    def first_fit(self) -> None:
        self.fitted = True
        self.params = ArchitectureParameters(self.relaxation.dims, self.options)
        self.refit_if_due(force=True)

    def propose(self):
        raise NotImplementedError


class ProxyValidationSearch(ProxyValidationBase):
    summary = "proxy-validation search: α by gradient descent on a fitted loss landscape"

    def propose(self):
        self.refit_if_due()
        if self.descend_due:
            self.params.descend(self.landscape, self.options.alpha_steps)
            self.descend_due = False
        return draw_near(self.relaxation, self.params, self.history, self.pool, self.rng, self.choices)


register_strategy("proxy-validation", ProxyValidationSearch)

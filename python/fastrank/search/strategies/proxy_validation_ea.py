"""Proxy-validation search, the evolutionary variant: a population of α; a child is a parent
(the best of a tournament of 3) plus Gaussian noise, refined by a few steps down the landscape;
the best predicted of its samples is queried, and its result replaces the worst individual."""
from __future__ import annotations

from typing import Dict, Hashable

import numpy as np
import torch

from ..proxy_validation import ArchitectureParameters, draw_near
from ..strategy import register_strategy
from .proxy_validation import ProxyValidationBase


class ProxyValidationEA(ProxyValidationBase):
    summary = "proxy-validation search, evolutionary variant (a population of α)"

    def __init__(self, context, options=None):
        super().__init__(context, options)
        self.population = []  # [params, fitness: the value its sample got]
        self.created = 0
        self.initial = []  # the individuals of the initial population
        self.waiting: Dict[Hashable, ArchitectureParameters] = {}  # identity -> the individual it was drawn for

    def first_fit(self) -> None:
        self.fitted = True
        self.refit_if_due(force=True)
        self.shared = ArchitectureParameters(self.relaxation.dims, self.options)  # OIW statistics all share

    def propose(self):
        options, dims = self.options, self.relaxation.dims
        if self.created < options.population:  # the initial population, one individual per query
            init = [torch.as_tensor(self.rng.normal(0.0, options.sigma, d), dtype=torch.float32) for d in dims]
            individual = ArchitectureParameters(dims, options, init)
            individual.squared = self.shared.squared
            arch = draw_near(self.relaxation, individual, self.history, self.pool, self.rng, self.choices)
            if arch is not None:
                self.created += 1
                self.initial.append(individual)
                self.waiting[self.space.identity(arch)] = individual
            return arch
        if not self.population:
            return None  # the initial population is still out
        self.refit_if_due()
        contenders = self.rng.choice(len(self.population), min(3, len(self.population)), replace=False)
        parent = self.population[max(contenders, key=lambda i: self.population[i][1])][0]
        init = [a.detach() + torch.as_tensor(self.rng.normal(0.0, options.sigma, a.shape[0]), dtype=torch.float32)
                for a in parent.alpha]
        child = ArchitectureParameters(dims, options, init)
        child.squared = self.shared.squared
        child.descend(self.landscape, options.alpha_steps)
        samples = []
        for _ in range(options.samples_per_child):
            arch = draw_near(self.relaxation, child, self.history, self.pool, self.rng, self.choices)
            if arch is not None and arch not in samples:
                samples.append(arch)
        if not samples:
            return None
        with torch.no_grad():
            predicted = [float(self.landscape.predict(self.relaxation.one_hot(a))) for a in samples]
        arch = samples[int(np.argmin(predicted))]
        self.waiting[self.space.identity(arch)] = child
        return arch

    def remember(self, arch, value: float) -> None:
        super().remember(arch, value)
        individual = self.waiting.pop(self.space.identity(arch), None)
        if individual is None:
            return  # from the random start (or a journal's record this run did not ask for)
        if any(individual is p for p in self.initial):
            self.population.append([individual, value])
        else:
            worst = min(range(len(self.population)), key=lambda i: self.population[i][1])
            self.population[worst] = [individual, value]


register_strategy("proxy-validation-ea", ProxyValidationEA)

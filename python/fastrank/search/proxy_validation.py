"""Proxy-validation search (Li, Dong, Wang, Xu, "Neural Architecture Search via Proxy Validation",
TPAMI 2022) on tables and user callables, where a query stands in for the super-net's validation.

The architecture is relaxed into per-decision logits α (:mod:`.relaxation`). A predictor maps an
architecture's representation to its validation loss (here the negated query value,
standardised): the proxy validation-loss landscape, fitted on a FIFO memory of the latest
(architecture, loss) pairs and refitted as the search goes. α moves by gradient descent through
the predictor at the expected representation under softmax(α / τ). Architectures are sampled
around α with Gumbel noise scaled by (1 − OIW): the operation importance weight is the running
mean of the squared gradient of the predicted loss with respect to α, normalised per decision,
so operations that matter are sampled with more certainty. The representation is a graph
autoencoder's embedding (:class:`fastrank.graph.GAE`, pretrained unsupervised on random
architectures of the space), or without it the decisions' one-hots.

Two variants: "proxy-validation" (one α, gradient descent) and "proxy-validation-ea" (a
population of α; a child is a parent plus Gaussian noise, refined by a few steps down the
landscape; the best predicted of its samples is queried; the worst individual is replaced).
"""
from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional

import numpy as np
import torch

from .candidates import CandidatePool
from .relaxation import Relaxation
from .trace import Trace
from .._checks import check_int, check_number

MAX_DRAWS = 50  # samples tried for an unqueried architecture before the fallback of _draw


@dataclass
class ProxyValidationOptions:
    """Options of "proxy-validation" and "proxy-validation-ea" (``search.run(..., **options)``).

    n_init: random queries before the first fit (10). memory: the FIFO memory the landscape is
    fitted on (50). refit_every: queries between refits (5); predictor_epochs (100) and hidden
    (64): the landscape MLP's training and width. alpha_lr (0.1) and alpha_steps (10): Adam on α
    after each refit. temperature: τ of softmax(α/τ) and of the sampling (1.0). oiw: scale the
    sampling noise by 1 − OIW (True); oiw_decay: its running mean's decay (0.9). gae: represent
    architectures by the GAE's embedding (True), pretrained on gae_samples random architectures
    for gae_epochs (2000, 30); gae_refit: epochs of further reconstruction training on the memory's
    architectures at each landscape refit (5; 0: the pretrained GAE stays fixed), as the paper keeps
    training its GAE on the architectures the search samples. EA: population (10), sigma (0.5: the children's noise),
    candidates (20: samples per child, the best predicted is queried).
    """

    n_init: int = 10
    memory: int = 50
    refit_every: int = 5
    predictor_epochs: int = 100
    hidden: int = 64
    alpha_lr: float = 0.1
    alpha_steps: int = 10
    temperature: float = 1.0
    oiw: bool = True
    oiw_decay: float = 0.9
    gae: bool = True
    gae_samples: int = 2000
    gae_epochs: int = 30
    gae_refit: int = 5
    population: int = 10
    sigma: float = 0.5
    candidates: int = 20

    def __post_init__(self):
        for name in ("n_init", "memory", "refit_every", "predictor_epochs", "hidden", "alpha_steps", "gae_samples",
                     "gae_epochs", "population", "candidates"):
            value = getattr(self, name)
            check_int(value, name)
        check_int(self.gae_refit, "gae_refit", 0)
        for name in ("alpha_lr", "temperature", "sigma"):
            value = getattr(self, name)
            check_number(value, name, "a positive number", low=0, low_open=True)
        check_number(self.oiw_decay, "oiw_decay", "a number in [0, 1)", low=0, high=1, high_open=True)
        for name in ("oiw", "gae"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool")


@lru_cache(maxsize=4)
def _gae(space, samples: int, epochs: int, seed: int):
    from ..graph.gae import pretrained_gae

    model = pretrained_gae(space, len(space.node_ops), samples=samples, epochs=epochs, seed=seed)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class Landscape:
    """The proxy validation-loss landscape: representation → predicted (standardised) loss."""

    def __init__(self, relaxation: Relaxation, options: ProxyValidationOptions, seed: int):
        self.relaxation, self.options = relaxation, options
        self.gae = _gae(relaxation.space, options.gae_samples, options.gae_epochs, seed) if options.gae else None
        if self.gae is not None and options.gae_refit:
            self.gae = copy.deepcopy(self.gae)  # this search's own copy: the cached one is shared
        self.refits = 0
        size = self.gae.to_latent.out_features if self.gae is not None else sum(relaxation.dims)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = torch.nn.Sequential(torch.nn.Linear(size, options.hidden), torch.nn.ReLU(),
                                             torch.nn.Linear(options.hidden, options.hidden), torch.nn.ReLU(),
                                             torch.nn.Linear(options.hidden, 1))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def represent(self, probs: List[torch.Tensor]) -> torch.Tensor:
        if self.gae is None:
            return torch.cat(list(probs))
        adj, x = self.relaxation.soft_graph(probs)
        mask = torch.ones(1, adj.shape[0], dtype=torch.bool)
        return self.gae.embed(adj.unsqueeze(0), x.unsqueeze(0), mask)[0]

    def predict(self, probs: List[torch.Tensor]) -> torch.Tensor:
        return self.model(self.represent(probs)).squeeze(-1)

    def fit(self, archs: list, losses: np.ndarray) -> None:
        """Warm-started full-batch training on the memory's standardised losses (after, with
        gae_refit, a few epochs of the GAE's reconstruction training on the same architectures)."""
        if self.gae is not None and self.options.gae_refit:
            from ..graph.encoding import encode_architectures

            for p in self.gae.parameters():
                p.requires_grad_(True)
            self.gae.fit(*encode_architectures(self.relaxation.space, archs, torch.float32),
                         epochs=self.options.gae_refit, seed=self.refits)
            for p in self.gae.parameters():
                p.requires_grad_(False)
            self.refits += 1
        with torch.no_grad():
            reps = torch.stack([self.represent(self.relaxation.one_hot(a)) for a in archs])
        y = torch.as_tensor((losses - losses.mean()) / (losses.std() or 1.0), dtype=torch.float32)
        self.model.train()
        for _ in range(self.options.predictor_epochs):
            self.optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(self.model(reps).squeeze(-1), y)
            loss.backward()
            self.optimizer.step()
        self.model.eval()


class ArchitectureParameters:
    """α (one logit vector per decision), its Adam, and the operation importance weights."""

    def __init__(self, dims, options: ProxyValidationOptions, init: Optional[List[torch.Tensor]] = None):
        self.options = options
        self.alpha = [torch.zeros(d) if init is None else init[i].clone() for i, d in enumerate(dims)]
        for a in self.alpha:
            a.requires_grad_(True)
        self.optimizer = torch.optim.Adam(self.alpha, lr=options.alpha_lr)
        self.squared = [torch.zeros(d) for d in dims]  # running mean of (∂ predicted loss / ∂α)²

    def probs(self) -> List[torch.Tensor]:
        return [torch.softmax(a / self.options.temperature, 0) for a in self.alpha]

    def descend(self, landscape: Landscape, steps: int) -> None:
        decay = self.options.oiw_decay
        for _ in range(steps):
            self.optimizer.zero_grad()
            landscape.predict(self.probs()).backward()
            for s, a in zip(self.squared, self.alpha):
                s.mul_(decay).add_((1 - decay) * a.grad.detach() ** 2)
            self.optimizer.step()

    def oiw(self) -> List[torch.Tensor]:
        """Per decision, the squared-gradient means normalised to sum to 1 (uniform before any)."""
        return [s / s.sum() if float(s.sum()) > 0 else torch.full_like(s, 1.0 / s.shape[0]) for s in self.squared]

    def noise_scale(self) -> List[torch.Tensor]:
        if not self.options.oiw:
            return [torch.ones_like(a) for a in self.alpha]
        return [1.0 - w for w in self.oiw()]

    def logits(self) -> List[torch.Tensor]:
        return [a.detach() / self.options.temperature for a in self.alpha]


def _draw(relaxation: Relaxation, params: ArchitectureParameters, trace: Trace, pool: CandidatePool,
          rng: np.random.Generator, seen: set, choices: Optional[np.ndarray] = None):
    """An unqueried member architecture sampled around α. After MAX_DRAWS samples that were all
    queried already (α has settled, and the noise rarely leaves what it has seen), a fixed pool
    gives the unqueried member that one more perturbed α scores highest (``choices``: the pool's
    architectures as decision values), so the search goes on next to α rather than at random;
    an open pool gives a random architecture."""
    for _ in range(MAX_DRAWS):
        arch = relaxation.sample(params.logits(), params.noise_scale(), rng)
        if not (pool.contains(arch) if pool.fixed else relaxation.is_member(arch)):
            continue
        if relaxation.space.identity(arch) not in seen:
            return arch
    if choices is not None:
        free = pool.unlabelled(trace)
        if len(free) == 0:
            return None
        perturbed = relaxation.perturb(params.logits(), params.noise_scale(), rng)
        return pool.archs[free[Relaxation.best_of(perturbed, choices[free])]]
    drawn = pool.draw(trace, rng, 1)
    return drawn[0] if drawn else None


class _Search:
    def __init__(self, trace: Trace, pool: CandidatePool, rng: np.random.Generator, seed: int,
                 options: ProxyValidationOptions):
        self.trace, self.pool, self.rng, self.options = trace, pool, rng, options
        self.relaxation = Relaxation(pool.space)
        self.memory = deque(maxlen=options.memory)
        self.seen = set()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.landscape = Landscape(self.relaxation, options, seed)
        self.since_fit = 0
        # the pool's architectures as decision values, for _draw's fallback
        self.choices = np.asarray(pool.archs, dtype=np.int64) if pool.fixed else None

    def query(self, arch) -> float:
        value = self.trace(arch)
        self.memory.append((arch, -value))  # the search minimises the loss form of the metric
        self.seen.add(self.relaxation.space.identity(arch))
        self.since_fit += 1
        return value

    def start(self) -> None:
        for arch in self.pool.draw(self.trace, self.rng, min(self.options.n_init, self.trace.remaining)):
            self.query(arch)

    def refit_if_due(self, force: bool = False) -> bool:
        if force or self.since_fit >= self.options.refit_every:
            archs, losses = zip(*self.memory)
            self.landscape.fit(list(archs), np.array(losses, dtype=np.float64))
            self.since_fit = 0
            return True
        return False


def proxy_validation_search(trace: Trace, pool: CandidatePool, rng: np.random.Generator, seed: int,
                            options: ProxyValidationOptions) -> None:
    """The differentiable variant."""
    search = _Search(trace, pool, rng, seed, options)
    search.start()
    params = ArchitectureParameters(search.relaxation.dims, options)
    search.refit_if_due(force=True)
    while trace.remaining > 0:
        if search.refit_if_due() or search.since_fit == 0:
            params.descend(search.landscape, options.alpha_steps)
        arch = _draw(search.relaxation, params, trace, pool, rng, search.seen, search.choices)
        if arch is None:
            return
        search.query(arch)


def proxy_validation_ea_search(trace: Trace, pool: CandidatePool, rng: np.random.Generator, seed: int,
                               options: ProxyValidationOptions) -> None:
    """The evolutionary variant: a population of α, children around parents, worst replaced."""
    search = _Search(trace, pool, rng, seed, options)
    search.start()
    search.refit_if_due(force=True)
    dims = search.relaxation.dims
    population = []  # (params, fitness: the value its last sample got)
    shared = ArchitectureParameters(dims, options)  # the OIW statistics all individuals share
    for _ in range(min(options.population, trace.remaining)):
        init = [torch.as_tensor(rng.normal(0.0, options.sigma, d), dtype=torch.float32) for d in dims]
        individual = ArchitectureParameters(dims, options, init)
        individual.squared = shared.squared
        arch = _draw(search.relaxation, individual, trace, pool, rng, search.seen, search.choices)
        if arch is None:
            return
        population.append([individual, search.query(arch)])
    while trace.remaining > 0 and population:
        search.refit_if_due()
        contenders = rng.choice(len(population), min(3, len(population)), replace=False)
        parent = population[max(contenders, key=lambda i: population[i][1])][0]
        init = [a.detach() + torch.as_tensor(rng.normal(0.0, options.sigma, a.shape[0]), dtype=torch.float32)
                for a in parent.alpha]
        child = ArchitectureParameters(dims, options, init)
        child.squared = shared.squared
        child.descend(search.landscape, options.alpha_steps)
        samples = []
        for _ in range(options.candidates):
            arch = _draw(search.relaxation, child, trace, pool, rng, search.seen, search.choices)
            if arch is not None and arch not in samples:
                samples.append(arch)
        if not samples:
            return
        with torch.no_grad():
            predicted = [float(search.landscape.predict(search.relaxation.one_hot(a))) for a in samples]
        value = search.query(samples[int(np.argmin(predicted))])
        worst = min(range(len(population)), key=lambda i: population[i][1])
        population[worst] = [child, value]

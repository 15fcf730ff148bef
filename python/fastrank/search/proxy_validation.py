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

Two variants (:mod:`fastrank.search.strategies.proxy_validation` and ``proxy_validation_ea``):
"proxy-validation" (one α, gradient descent) and "proxy-validation-ea" (a population of α; a
child is a parent plus Gaussian noise, refined by a few steps down the landscape; the best
predicted of its samples is queried; the worst individual is replaced). This module holds what
both use: the options, the landscape, α with its OIW, and the draw.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional

import numpy as np
import torch

from .candidates import CandidatePool
from .relaxation import Relaxation
from .history import History
from .options import POSITIVE, Bool, Float, Int, Options, option

MAX_DRAWS = 50  # samples tried for an unqueried architecture before the fallback of draw_near


@dataclass
class ProxyValidationOptions(Options):
    """Options of "proxy-validation" and "proxy-validation-ea". (gae_refit: as the paper keeps
    training its GAE on the architectures the search samples.)"""

    n_init: int = option(10, "random architectures queried before the first fit", Int(1))
    memory: int = option(50, "the FIFO memory of latest results the loss landscape is fitted on", Int(1))
    refit_every: int = option(5, "results between refits of the landscape", Int(1))
    predictor_epochs: int = option(100, "training epochs of the landscape MLP per refit", Int(1))
    hidden: int = option(64, "width of the landscape MLP", Int(1))
    alpha_lr: float = option(0.1, "Adam's rate on α", Float("a positive number up to 1e6", low=0, high=1e6,
                                                            low_open=True))
    alpha_steps: int = option(10, "Adam steps on α after each refit", Int(1))
    temperature: float = option(1.0, "τ of softmax(α/τ) and of the Gumbel sampling", POSITIVE)
    oiw: bool = option(True, "scale the sampling noise by 1 − OIW (off: an ablation)", Bool())
    oiw_decay: float = option(0.9, "decay of the OIW's running mean", Float("a number in [0, 1)", low=0, high=1,
                                                                             high_open=True))
    gae: bool = option(True, "represent architectures by the GAE's embedding (off: one-hots, an ablation)", Bool())
    gae_samples: int = option(2000, "random architectures the GAE is pretrained on", Int(1))
    gae_epochs: int = option(30, "the GAE's pretraining epochs", Int(1))
    gae_refit: int = option(5, "the GAE's reconstruction epochs on the memory at each refit (0: it stays fixed)",
                            Int(0))
    population: int = option(10, "proxy-validation-ea: individuals (α vectors)", Int(1))
    sigma: float = option(0.5, "proxy-validation-ea: the children's Gaussian noise on α", POSITIVE)
    samples_per_child: int = option(20, "proxy-validation-ea: samples per child; the best predicted is queried",
                                    Int(1))


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


def draw_near(relaxation: Relaxation, params: ArchitectureParameters, history: History, pool: CandidatePool,
          rng: np.random.Generator, choices: Optional[np.ndarray] = None):
    """An architecture of the pool, neither queried nor in flight, sampled around α. After
    MAX_DRAWS samples that were all taken (α has settled, and the noise rarely leaves what it has
    seen), a fixed pool gives the free member that one more perturbed α scores highest
    (``choices``: the pool's architectures as decision values), so the search goes on next to α
    rather than at random; an open pool gives a random architecture."""
    for _ in range(MAX_DRAWS):
        arch = relaxation.sample(params.logits(), params.noise_scale(), rng)
        if not (pool.contains(arch) if pool.fixed else relaxation.is_member(arch)):
            continue
        if not history.seen(arch):
            return arch
    if choices is not None:
        free = pool.unlabelled(history)
        if len(free) == 0:
            return None
        perturbed = relaxation.perturb(params.logits(), params.noise_scale(), rng)
        return pool.archs[free[Relaxation.best_of(perturbed, choices[free])]]
    drawn = pool.draw(history, rng, 1)
    return drawn[0] if drawn else None

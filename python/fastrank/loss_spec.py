"""Losses written as text, for the command line and the search: one registered name
(``"HR"``), a name with hyperparameters (``"LambdaRank:k=10"``, ``"WARP:margin=0.5"``), a weighted sum (``"sum:MSE=1,HR=0.5"``) or the piecewise PW loss (``"pw"``: the
seed study's pair for the task; ``"pw:HR,MAPE@50"``: HR while fewer than 50 architectures
are labelled, then MAPE; ``"pw@70%"``: the switch at 70% of the search's budget)."""
from __future__ import annotations

import math
from typing import Optional

import torch

from .benchmarks.family import seed_pw_key
from .nn import SEED_PIECEWISE, PiecewiseLoss, WeightedSum, make_loss, canonical_loss_name

__all__ = ["parse_loss", "resolve_loss", "seed_task"]

# Benchmarks the seed study has no PW pair for use its NB201/DARTS pair (HR -> MAPE).
_DEFAULT_PAIR = SEED_PIECEWISE["nb201"]


def seed_task(benchmark: str) -> Optional[str]:
    """The key of :data:`fastrank.nn.SEED_PIECEWISE` for a benchmark or space name, or None:
    the one its benchmark family declares (``fastrank.benchmarks.Family.seed_pw``)."""
    return seed_pw_key(benchmark)


def _switch(text: str, spec: str, budget: Optional[int]) -> int:
    """The switch point after '@': a count of labelled architectures, or with '%' a share of
    the search's ``budget`` (rounded)."""
    text = text.strip()
    share = text.endswith("%")
    number = text[:-1] if share else text
    try:
        value = float(number) if share else int(number)
    except ValueError:
        what = "a percentage such as 70%" if share else "an int"
        raise ValueError(f"bad loss {spec!r}: the switch point after '@' must be {what}, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (share and value > 100):
        raise ValueError(f"bad loss {spec!r}: the switch point must be non-negative"
                         + (" and at most 100%" if share else ""))
    if not share:
        return value
    if budget is None:
        raise ValueError(f"bad loss {spec!r}: a switch point given as a share of the budget needs a search "
                         "budget (write the number of labelled architectures instead, e.g. pw@50)")
    return int(round(value / 100.0 * budget))


def parse_loss(spec, *, task: str = "", switch_at: Optional[int] = None,
               budget: Optional[int] = None) -> torch.nn.Module:
    """A loss module from a spec string (see the module docstring) or a module.

    ``task``: benchmark or space name, for ``"pw"`` alone; ``switch_at``: its switch point
    when the spec gives none (default 100, :meth:`PiecewiseLoss.seed`'s); ``budget``: the
    search's, for a switch point given as a share of it (``"pw@70%"``)."""
    if isinstance(spec, torch.nn.Module):
        return spec
    if callable(spec) and not isinstance(spec, str):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"a loss is a name, a spec string or a module, got {type(spec).__name__}")
    text = spec.strip()
    lower = text.lower()
    if lower == "pw" or lower.startswith("pw:") or lower.startswith("pw@"):
        body = text[2:]
        at = switch_at if switch_at is not None else 100
        if "@" in body:
            body, _, number = body.rpartition("@")
            at = _switch(number, spec, budget)
        if body.startswith(":"):
            body = body[1:]
            if not body.strip():
                raise ValueError(f"bad loss {spec!r}: write pw (the seed study's pair) or pw:WARMUP,FOCUS@N")
        if body:
            parts = [p.strip() for p in body.split(",")]
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"bad loss {spec!r}: write pw:WARMUP,FOCUS@N, e.g. pw:HR,MAPE@50")
            warmup, focus = (canonical_loss_name(p) for p in parts)
        else:
            key = seed_task(task)
            warmup, focus = SEED_PIECEWISE[key] if key else _DEFAULT_PAIR
        return PiecewiseLoss(warmup, focus, at)
    if lower.startswith("sum:"):
        terms = {}
        for part in text[4:].split(","):
            name, eq, weight = part.partition("=")
            if not eq or not name.strip():
                raise ValueError(f"bad loss {spec!r}: write sum:NAME=WEIGHT,NAME=WEIGHT, e.g. sum:MSE=1,HR=0.5")
            try:
                w = float(weight)
            except ValueError:
                raise ValueError(f"bad loss {spec!r}: weight {weight!r} is not a number") from None
            if not math.isfinite(w):
                raise ValueError(f"bad loss {spec!r}: weights must be finite")
            key = canonical_loss_name(name.strip())
            if key in terms:
                raise ValueError(f"bad loss {spec!r}: {key} appears twice")
            terms[key] = w
        return WeightedSum(terms)
    name, colon, body = text.partition(":")
    if colon:
        return make_loss(name.strip(), **_hyperparameters(body, spec))
    return make_loss(text)


def _hyperparameters(body: str, spec: str) -> dict:
    """``k=10,relevance=acenas`` -> {"k": 10, "relevance": "acenas"}: ints, then floats, else text."""
    hyper = {}
    for part in body.split(","):
        key, eq, text = (p.strip() for p in part.partition("="))
        if not eq or not key or not text:
            raise ValueError(f"bad loss {spec!r}: write NAME:KEY=VALUE,..., e.g. LambdaRank:k=10")
        for kind in (int, float):
            try:
                hyper[key] = kind(text)
                break
            except ValueError:
                continue
        else:
            hyper[key] = None if text.lower() == "none" else text
    return hyper


def resolve_loss(loss, *, n_labelled: int, space: str = ""):
    """The loss to train with when ``n_labelled`` architectures are labelled: a piecewise
    loss gives its active part."""
    module = parse_loss(loss, task=space)
    if isinstance(module, PiecewiseLoss):
        return module.active(n_labelled)
    return module

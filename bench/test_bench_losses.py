"""Every loss of the zoo (loss + gradient, one list) against its plain-torch formula and,
for RankNet, ListMLE, ListNet and LambdaRank, against allRank, in the same run."""
from __future__ import annotations

import pytest
import torch

from bench_utils import loss_and_grad, run, skip_without
from fastrank.nn import make_loss
from peers import allrank_losses
from plain_losses import PLAIN

ALLRANK = allrank_losses()
HYPER = {"HR": {"margin": 0.1}, "LambdaRank": {"k": 10}}
ALLRANK_CALLS = {
    "LR": lambda a, b: ALLRANK.rankNet(a[None], b[None]),
    "ListMLE": lambda a, b: ALLRANK.listMLE(a[None], b[None]),
    "ListNet": lambda a, b: ALLRANK.listNet(a[None], b[None]),
    "LambdaRank": lambda a, b: ALLRANK.lambdaLoss(a[None], b[None], weighing_scheme="lambdaRank_scheme", k=10),
}
PAIRWISE_DENSE = {"HR", "LR", "WARP", "LambdaRank"}


@pytest.mark.parametrize("n", [100, 1000, 10_000])
@pytest.mark.parametrize("name", list(PLAIN))
@pytest.mark.parametrize("impl", ["fastrank", "plain_torch", "allrank"])
def test_loss(benchmark, impl, name, n):
    gen = torch.Generator().manual_seed(n)
    s = torch.randn(n, generator=gen)
    y = torch.rand(n, generator=gen) if name != "LambdaRank" else torch.randint(0, 5, (n,), generator=gen).float()
    slow = False
    if impl == "fastrank":
        loss_fn = make_loss(name, **HYPER.get(name, {}))
        fn = loss_and_grad(lambda a, b: loss_fn(a, b), s, y)
    elif impl == "plain_torch":
        fn = loss_and_grad(PLAIN[name], s, y)
        slow = name in PAIRWISE_DENSE and n >= 1000
    else:
        if name not in ALLRANK_CALLS:
            pytest.skip(f"allRank has no {name}")
        skip_without(ALLRANK, "allRank")
        if name == "LR" and n > 1000:
            pytest.skip("allRank's rankNet builds every pair with torch.combinations: minutes at this size")
        fn = loss_and_grad(ALLRANK_CALLS[name], s, y)
        slow = n >= 1000
    run(benchmark, f"{name}, n={n:,}", impl, n, fn, slow=slow, rounds=3 if n < 10_000 else 2)

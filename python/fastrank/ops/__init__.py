"""Ranking losses as torch custom ops (``torch.ops.fastrank.*``) with autograd."""
from .lambdarank import lambdarank
from .pairwise import pairwise_hinge, pairwise_logistic, pairwise_squared_hinge

__all__ = ["pairwise_hinge", "pairwise_squared_hinge", "pairwise_logistic", "lambdarank"]

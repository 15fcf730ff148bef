"""Ranking losses as torch custom ops (``torch.ops.fastrank.*``) with autograd.

Each op is declared once, by the :class:`~fastrank.ops._custom_ops.OpSpec` beside its public
function; ``LIST_OPS`` holds every declared op by name.
"""
from ._custom_ops import LIST_OPS as LIST_OPS  # re-exported; __all__ lists the public functions only
from .lambdarank import lambdarank
from .pairwise import pairwise_hinge, pairwise_logistic, pairwise_squared_hinge

__all__ = ["pairwise_hinge", "pairwise_squared_hinge", "pairwise_logistic", "lambdarank"]

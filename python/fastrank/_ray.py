"""Joining Ray, for every part of fastrank that runs work on it (the search's evaluations, the
loss study's cells): one place for the import error and the connection."""
from __future__ import annotations

from typing import Optional


def connect(address: Optional[str] = None):
    """The ``ray`` module, initialised: ``address`` joins a running cluster ("auto", "ray://...",
    "host:port"); None starts a local instance, or keeps the one this process has."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("this needs Ray: pip install 'fastrank[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray

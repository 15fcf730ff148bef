"""Joining Ray, for every part of fastrank that runs work on it (the search's evaluations, the
loss study's cells): one place for the import error, the connection and its time limit."""
from __future__ import annotations

import importlib.util
import socket
from typing import Optional

CONNECT_SECONDS = 10.0


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster named cannot be reached."""


def _probe(address: str) -> None:
    """A TCP connection to ``host:port`` (or ``ray://host:port``) within CONNECT_SECONDS: ray.init
    itself waits for minutes on an address where nothing answers."""
    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms: left to Ray
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as err:
        raise RayUnavailable(f"cannot reach a Ray cluster at {address} within {CONNECT_SECONDS:.0f} s "
                             f"({err.strerror or err})") from None


def check_reachable(address: Optional[str] = None) -> None:
    """Raises :class:`RayUnavailable` if Ray is not installed or ``address`` does not answer;
    starts nothing (a command checks this before it writes any file)."""
    if importlib.util.find_spec("ray") is None:
        raise RayUnavailable("this needs Ray: pip install 'fastrank[ray]'")
    if address is not None:
        _probe(address)


def connect(address: Optional[str] = None):
    """The ``ray`` module, initialised: ``address`` joins a running cluster ("auto", "ray://...",
    "host:port"); None starts a local instance, or keeps the one this process has."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable("this needs Ray: pip install 'fastrank[ray]'") from None
    if not ray.is_initialized():
        if address is not None:
            _probe(address)
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray

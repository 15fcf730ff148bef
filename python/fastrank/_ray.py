"""Joining Ray, for every part of fastrank that runs work on it (the search's evaluations, the
loss study's cells): one place for the import error, the connection and its time limit."""
from __future__ import annotations

import importlib.util
import os
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
        conn = socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS)
    except OSError as err:
        raise RayUnavailable(f"cannot reach a Ray cluster at {address} within {CONNECT_SECONDS:.0f} s "
                             f"({err.strerror or err})") from None
    with conn:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("0", "false", ""):
            if not _answers_grpc(conn):
                raise RayUnavailable(f"something answers at {address}, but not a Ray cluster (no gRPC greeting "
                                     f"within {CONNECT_SECONDS:.0f} s): the head's port is the one `ray start "
                                     "--head` prints (6379 unless --port)")


# the HTTP/2 client preface and an empty SETTINGS frame (RFC 9113, 3.4 and 6.5)
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _answers_grpc(conn: socket.socket) -> bool:
    """Whether the server greets an HTTP/2 client with a SETTINGS frame, as the gRPC server of a
    Ray head (or Ray Client) does. A port that accepts TCP but speaks something else (another
    service, a proxy that only closes) would leave ray.init retrying for many minutes."""
    try:
        conn.sendall(_HTTP2_HELLO)
        header = b""
        while len(header) < 9:
            chunk = conn.recv(9 - len(header))
            if not chunk:
                return False
            header += chunk
    except OSError:  # socket.timeout included
        return False
    return header[3] == 4  # the frame type of the first frame: SETTINGS


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
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError) as err:
            # something answered at the address, but not a Ray cluster (another service on that
            # port, a proxy): Ray gives up after its own retries with a chained traceback
            where = f"join a Ray cluster at {address}" if address is not None else "start a local Ray instance"
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RayUnavailable(f"cannot {where}: {first}") from None
    return ray

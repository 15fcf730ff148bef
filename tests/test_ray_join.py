"""Joining a Ray cluster by address (fastrank._ray): a wrong address is one clear error within
seconds, never ray.init retrying for many minutes or a chained traceback."""
import socket
import threading
import time

import pytest

pytest.importorskip("ray")

from fastrank._ray import RayUnavailable, check_reachable, connect  # noqa: E402


def serve(reply: bytes):
    """A local TCP server that sends ``reply`` to each connection and closes it; its address."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def loop():
        while True:
            conn, _ = server.accept()
            with conn:
                if reply:
                    conn.sendall(reply)

    threading.Thread(target=loop, daemon=True).start()
    return f"127.0.0.1:{server.getsockname()[1]}"


def test_a_port_that_is_not_a_ray_cluster_is_refused_at_once(monkeypatch):
    monkeypatch.delenv("RAY_USE_TLS", raising=False)
    for reply in (b"", b"HTTP/1.1 400 Bad Request\r\n\r\n"):  # a server that only closes; a web server
        address = serve(reply)
        start = time.monotonic()
        with pytest.raises(RayUnavailable, match=f"something answers at {address}, but not a Ray cluster"):
            check_reachable(address)
        assert time.monotonic() - start < 5


def test_a_grpc_greeting_passes_the_check():
    # what a gRPC server (a Ray head's GCS) sends first: a SETTINGS frame
    check_reachable(serve(bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])))


def test_ray_giving_up_on_an_address_is_one_line(monkeypatch):
    import ray

    def refuse(**kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at somewhere\nmore of Ray's story")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(RayUnavailable, match=r"^cannot start a local Ray instance: Failed to connect to Ray "
                                             r"cluster at somewhere$"):
        connect(None)

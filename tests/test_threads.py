"""The native thread pool under concurrent Python threads and after fork()."""
from __future__ import annotations

import os
import sys
import threading

import pytest
import torch

import fastrank


def workload(seed: int):
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(3000, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 6, (3000,), generator=gen).double()
    loss = fastrank.pairwise_hinge(s, y) + fastrank.lambdarank(s, y, k=20) + fastrank.pairwise_logistic(
        s[:800], y[:800], group_sizes=[300, 500])
    loss.backward()
    return loss.detach(), s.grad.clone()


def test_concurrent_python_threads_get_the_serial_results():
    expected = [workload(seed) for seed in range(6)]
    results = [None] * 6
    errors = []

    def run(i):
        try:
            for _ in range(3):
                results[i] = workload(i)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and all(not t.is_alive() for t in threads)
    for (loss, grad), (want_loss, want_grad) in zip(results, expected):
        assert torch.equal(loss, want_loss) and torch.equal(grad, want_grad)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork()")
def test_ops_work_in_a_forked_child():
    workload(0)  # starts the pool's worker threads in the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's workers do not exist here
        try:
            loss, _ = workload(1)
            os.write(write, f"{loss.item():.17g}".encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert status == 0 and child
    assert float(child) == pytest.approx(workload(1)[0].item(), rel=1e-15)


def test_thread_count_is_bounded():
    before = fastrank.num_threads()
    with pytest.raises(ValueError, match="at most"):
        fastrank.set_num_threads(60_000)
    assert fastrank.num_threads() == before
    fastrank.set_num_threads(2)
    assert fastrank.num_threads() == 2
    fastrank.set_num_threads(0)

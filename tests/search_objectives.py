"""Objectives for the search engine's tests, at module level so that spawned worker processes
and Ray workers can import them."""
from __future__ import annotations

import os
import threading
import time


def conv_count(arch) -> float:
    """A cheap objective on NB201 cells: convolutions help, 'none' hurts."""
    return float(sum(op in (2, 3) for op in arch) - sum(op == 0 for op in arch) + 0.01 * arch[0])


def flaky(arch) -> float:
    """Fails for about a third of the cells, by the cell (so reruns agree): raises, returns NaN,
    or returns a string."""
    kind = (arch[0] * 7 + arch[1] * 3 + arch[5]) % 9
    if kind == 0:
        raise RuntimeError("CUDA out of memory (simulated)")
    if kind == 1:
        return float("nan")
    if kind == 2:
        return "diverged"
    return conv_count(arch)


def dies_on_pooling(arch) -> float:
    """The worker process dies (as a segfault or an OOM kill would) on cells whose first edge pools."""
    if arch[0] == 4:
        os._exit(3)
    return conv_count(arch)


class DiesOnce:
    """The worker dies the first time it evaluates each architecture (a marker file in
    ``folder`` remembers), then evaluates it: a retry of a dead worker's task succeeds."""

    def __init__(self, folder):
        self.folder = str(folder)

    def __call__(self, arch) -> float:
        marker = os.path.join(self.folder, "-".join(map(str, arch)))
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)
        return conv_count(arch)


def always_fails(arch) -> float:
    raise ValueError("the data loader cannot find the dataset")


class Concurrency:
    """Sleeps ``seconds`` per evaluation and records how many ran at once (threads only)."""

    def __init__(self, seconds: float = 0.02):
        self.seconds, self.running, self.most = seconds, 0, 0
        self.lock = threading.Lock()

    def __call__(self, arch) -> float:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        return conv_count(arch)


def slow_conv_count(arch) -> float:
    """conv_count after 20 ms: a run long enough to be killed part way."""
    time.sleep(0.02)
    return conv_count(arch)


def sleeps_five_minutes(arch) -> float:
    """A training that takes far longer than a test: Ctrl-C must not wait for it."""
    time.sleep(300)
    return conv_count(arch)

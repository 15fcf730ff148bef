"""Where a run's evaluations execute: in the calling thread (one at a time), in threads, in
worker processes (one device each), or as Ray tasks. The loss study runs its cells on the same
worker processes (:mod:`fastrank.study.executors`). Each evaluator takes architectures with
``submit`` and gives back :class:`Outcome` s with ``wait`` as they finish, in any order.

An evaluation that raises, or returns something that is not a finite number, comes back as an
outcome with an error; a worker process that dies comes back as ``died`` (the driver retries
it, then records a failure). Ray retries a dead worker's task itself (``retries``).
"""
from __future__ import annotations

import math
import os
import pickle
import queue
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

EXECUTORS = ("thread", "process", "local", "ray")  # local: processes, as fastrank study names them


@dataclass
class Outcome:
    arch: object
    value: Optional[float]
    error: Optional[str]
    seconds: float
    worker: Optional[str] = None
    died: bool = False  # the worker process died: the evaluation may be retried


def as_value(raw) -> Tuple[Optional[float], Optional[str]]:
    """(the value, None) of what an evaluation returned, or (None, why it is not a value): it
    must be a finite number."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None, f"returned {type(raw).__name__} {raw!r:.60}, not a number"
    if not math.isfinite(value):
        return None, f"returned {value}"
    return value, None


def evaluate_one(fn: Callable, arch, worker: Optional[str] = None) -> Outcome:
    """Runs ``fn(arch)``; any exception or a value that is not a finite number is an error."""
    start = time.perf_counter()
    try:
        raw = fn(arch)
    except Exception as err:  # a failed training is data, not the end of the search
        last = traceback.extract_tb(err.__traceback__)[-1:]
        where = f" ({last[0].filename.rsplit(os.sep, 1)[-1]}:{last[0].lineno})" if last else ""
        return Outcome(arch, None, f"{type(err).__name__}: {err}{where}", time.perf_counter() - start, worker)
    value, error = as_value(raw)  # here, in the worker: what goes back always pickles
    return Outcome(arch, value, error, time.perf_counter() - start, worker)


class InlineEvaluator:
    """One evaluation at a time in the calling thread: Ctrl-C and a debugger reach it directly."""

    def __init__(self, fn: Callable):
        self.fn, self.pending = fn, []

    def submit(self, arch) -> None:
        self.pending.append(arch)

    def wait(self) -> List[Outcome]:
        return [evaluate_one(self.fn, self.pending.pop(0), "main")] if self.pending else []

    def shutdown(self) -> None:
        self.pending.clear()


class ThreadEvaluator:
    """Threads: for objectives that release the GIL (GPU training, I/O, a remote call, a sleep).

    Daemon threads, one per evaluation in flight, named by their slot (``fastrank-eval_0`` ..):
    a thread cannot be stopped, and Python waits at exit for every thread that is not a daemon
    (a ``ThreadPoolExecutor``'s among them), so after Ctrl-C the command would wait for the
    trainings in flight, hours perhaps, before it exits. Evaluations abandoned so run on in the
    background while this process lives, and their results are dropped."""

    def __init__(self, fn: Callable, workers: int):
        self.fn = fn
        self.busy: List[bool] = [False] * workers
        self.done: "queue.Queue[Tuple[int, Outcome]]" = queue.Queue()

    def submit(self, arch) -> None:
        slot = next((i for i, b in enumerate(self.busy) if not b), len(self.busy))
        if slot == len(self.busy):
            self.busy.append(False)
        self.busy[slot] = True
        threading.Thread(target=self._run, args=(slot, arch, self.done), name=f"fastrank-eval_{slot}",
                         daemon=True).start()

    def _run(self, slot: int, arch, done) -> None:
        try:
            done.put((slot, evaluate_one(self.fn, arch, threading.current_thread().name)))
        except BaseException as err:  # KeyboardInterrupt, SystemExit: raised to the caller by wait()
            done.put((slot, err))

    def wait(self) -> List[Outcome]:
        if not any(self.busy):
            return []
        finished = [self.done.get()]  # blocks; Ctrl-C still reaches the calling thread
        while True:
            try:
                finished.append(self.done.get_nowait())
            except queue.Empty:
                break
        for slot, _ in finished:
            self.busy[slot] = False
        for _, outcome in finished:
            if isinstance(outcome, BaseException):  # as the calling thread would have raised it
                raise outcome
        return [outcome for _, outcome in finished]

    def shutdown(self) -> None:
        # evaluations in flight run on in their daemon threads; a new queue drops what they bring back
        self.busy = [False] * len(self.busy)
        self.done = queue.Queue()


def run_task(fn: Callable, task, worker: Optional[str] = None) -> Outcome:
    """The general form, for work that is not an evaluation (the loss study's cells): the
    result as it is, or the exception itself as ``error`` (to be raised by the caller)."""
    start = time.perf_counter()
    try:
        return Outcome(task, fn(task), None, time.perf_counter() - start, worker)
    except Exception as err:
        return Outcome(task, None, err, time.perf_counter() - start, worker)


def _die_with(parent: int) -> None:
    """Ends this worker when the process that started it dies. A parent killed outright (SIGKILL,
    the out-of-memory killer, a node's job limit) runs no clean-up, and a worker in the middle of
    a training would go on for hours holding its GPU while ``--resume`` starts new workers on it."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:  # the kernel sends SIGKILL the moment the parent goes: nothing to poll
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:  # elsewhere, and for a parent that died before the line above
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="fastrank-parent-watch", daemon=True).start()


def _process_main(conn, payload: bytes, device: Optional[str], name: str, call: Callable, threads: int,
                  parent: int) -> None:
    _die_with(parent)
    if device is not None:  # before the objective (and torch) is imported here
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    # the workers share the machine's cores: each takes its part unless the user chose a count
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    fn = pickle.loads(payload)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    try:
        while True:
            try:
                arch = conn.recv()
            except EOFError:
                return
            if arch is None:
                return
            conn.send(call(fn, arch, name))
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole process group: the parent stops the run and keeps its journal,
        # and this evaluation is redone on resume. Leaving quietly keeps multiprocessing from
        # printing "Process process-0:" and a traceback under the parent's own message.
        return


class _Worker:
    def __init__(self, ctx, payload: bytes, device: Optional[str], name: str, call: Callable, threads: int):
        parent, child = ctx.Pipe()
        self.name, self.device = name, device
        self.process = ctx.Process(target=_process_main, args=(child, payload, device, name, call, threads,
                                                               os.getpid()), daemon=True, name=name)
        self.process.start()
        child.close()
        self.conn = parent
        self.arch = None
        self.busy = False


class ProcessEvaluator:
    """One spawned process per worker, each fed one architecture at a time through its own pipe,
    so that a worker that dies is known by name and its evaluation can be retried. ``devices``:
    worker i sees only ``devices[i % len(devices)]`` (as CUDA_VISIBLE_DEVICES). Each worker
    runs its CPU work on cores / workers threads (OMP_NUM_THREADS, unless set already), so that
    N workers do not oversubscribe the machine. ``call``: how a worker applies ``fn``
    (:func:`evaluate_one`, or :func:`run_task` for other work)."""

    def __init__(self, fn: Callable, workers: int, devices: Optional[Sequence] = None,
                 call: Callable = evaluate_one):
        import multiprocessing

        try:
            self.payload = pickle.dumps(fn)
        except Exception as err:
            raise TypeError(f"the process executor sends evaluate to its workers by pickling, and this one does "
                            f"not pickle ({type(err).__name__}: {err}): use a module-level function, or "
                            f"executor='thread'") from None
        self.ctx = multiprocessing.get_context("spawn")
        self.call = call
        self.devices = [str(d) for d in devices] if devices else None
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self.workers = [self._start(i) for i in range(workers)]

    def _start(self, i: int) -> _Worker:
        device = self.devices[i % len(self.devices)] if self.devices else None
        return _Worker(self.ctx, self.payload, device, f"process-{i}" + (f"-gpu{device}" if device else ""),
                       self.call, self.threads)

    @property
    def busy(self) -> int:
        return sum(w.busy for w in self.workers)

    def submit(self, arch) -> None:
        worker = next(w for w in self.workers if not w.busy)
        worker.conn.send(arch)
        worker.arch, worker.busy = arch, True

    def wait(self, timeout: Optional[float] = None) -> List[Outcome]:
        """Outcomes of the evaluations that finished (at least one, unless ``timeout`` passed)."""
        from multiprocessing.connection import wait

        busy = [w for w in self.workers if w.busy]
        if not busy:
            return []
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
        out = []
        for i, w in enumerate(self.workers):
            if not w.busy or (w.conn not in ready and w.process.sentinel not in ready):
                continue
            try:
                if w.conn.poll():
                    out.append(w.conn.recv())
                    w.busy = False
                    continue
            except (EOFError, OSError):
                pass
            if w.process.is_alive():
                continue
            w.process.join()
            out.append(Outcome(w.arch, None, f"the worker process died (exit code {w.process.exitcode})", 0.0,
                               w.name, died=True))
            w.conn.close()
            self.workers[i] = self._start(i)
        return out

    def shutdown(self) -> None:
        for w in self.workers:
            if w.busy:
                w.process.kill()
            else:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in self.workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
            w.conn.close()
        self.workers = []


class RayEvaluator:
    """Ray tasks (``num_cpus``, ``num_gpus`` each; Ray gives each task its GPUs). A task whose
    worker dies is retried by Ray ``retries`` times, then comes back as a failure.

    Ray sends ``evaluate`` to its workers with cloudpickle, which pickles a function of an
    importable module by reference: the workers must be able to import that module (install
    it on the cluster, ship it with a ``runtime_env``, or have cloudpickle send it by value with
    ``ray.cloudpickle.register_pickle_by_value(module)``)."""

    def __init__(self, fn: Callable, address: Optional[str], num_cpus: float, num_gpus: float, retries: int):
        from .. import _ray

        self.ray = _ray.connect(address)
        self.remote = self.ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=retries)(evaluate_one)
        self.fn_ref = self.ray.put(fn)
        self.refs: Dict = {}

    def submit(self, arch) -> None:
        self.refs[self.remote.remote(self.fn_ref, arch, "ray")] = arch

    def wait(self) -> List[Outcome]:
        if not self.refs:
            return []
        ready, _ = self.ray.wait(list(self.refs), num_returns=1)
        out = []
        for ref in ready:
            arch = self.refs.pop(ref)
            try:
                out.append(self.ray.get(ref))
            except Exception as err:  # the worker died after Ray's retries, or the task was lost
                text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()  # Ray colours its messages
                lines = [line.strip() for line in text.splitlines() if line.strip().strip("^")]
                why = lines[-1] if lines else ""  # the cause comes last in Ray's messages
                out.append(Outcome(arch, None, f"the Ray task failed: {type(err).__name__}: {why}", 0.0, "ray"))
        return out

    def shutdown(self) -> None:
        for ref in self.refs:
            self.ray.cancel(ref, force=True)
        self.refs.clear()


def make_evaluator(fn: Callable, workers: int, executor: str, *, devices, address, num_cpus: float, num_gpus: float,
                   retries: int):
    """The evaluator of an :class:`~fastrank.search.driver.EvaluationOptions` (which holds the
    defaults, and refuses an option of another executor)."""
    if executor == "ray":
        return RayEvaluator(fn, address, num_cpus, num_gpus, retries)
    if executor in ("process", "local"):
        return ProcessEvaluator(fn, workers, devices)
    return InlineEvaluator(fn) if workers == 1 else ThreadEvaluator(fn, workers)

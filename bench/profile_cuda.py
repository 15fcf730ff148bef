"""Where the GPU time of fastrank's CUDA ops goes: one profiled call per case (torch.profiler),
its kernels sorted by GPU time, and the call's wall time against torch.sort of the same n.

    python bench/profile_cuda.py [--out profile.txt]

Run by bench/gpu_session.sh; needs a usable CUDA device (fastrank.cuda_available()).
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

import fastrank


def hinge_case(n_lists: int, length: int, levels: int | None):
    gen = torch.Generator(device="cuda").manual_seed(0)
    s = torch.randn(n_lists, length, generator=gen, device="cuda", requires_grad=True)
    y = (torch.randint(0, levels, (n_lists, length), generator=gen, device="cuda").float() if levels
         else torch.rand(n_lists, length, generator=gen, device="cuda"))

    def step():
        s.grad = None
        fastrank.pairwise_hinge(s if n_lists > 1 else s[0], y if n_lists > 1 else y[0]).backward()

    return step, n_lists * length


def lambdarank_case(n: int, k: int):
    gen = torch.Generator(device="cuda").manual_seed(1)
    s = torch.randn(n, generator=gen, device="cuda", requires_grad=True)
    y = torch.randint(0, 5, (n,), generator=gen, device="cuda").float()

    def step():
        s.grad = None
        fastrank.lambdarank(s, y, k).backward()

    return step, n


def kendall_case(n: int):
    gen = torch.Generator(device="cuda").manual_seed(2)
    x = torch.randn(n, generator=gen, device="cuda")
    y = x + torch.randn(n, generator=gen, device="cuda")
    return (lambda: fastrank.metrics.kendall_tau(x, y)), n


CASES = {
    "hinge, 10,000 lists x 32": lambda: hinge_case(10_000, 32, 5),
    "hinge, 1 list, n=10^7, 5 target levels": lambda: hinge_case(1, 10**7, 5),
    "hinge, 1 list, n=10^7, distinct targets": lambda: hinge_case(1, 10**7, None),
    "lambdarank k=10, 1 list, n=10^6": lambda: lambdarank_case(10**6, 10),
    "kendall tau, n=10^6": lambda: kendall_case(10**6),
}


def wall(fn, repeats: int = 5) -> float:
    """Median seconds of fn() to the end of its GPU work."""
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args()
    if not fastrank.cuda_available():
        raise SystemExit("no usable CUDA device (fastrank.cuda_available() is False)")
    lines = [f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}"]
    summary = []
    for name, make in CASES.items():
        step, n = make()
        step()  # warm-up: workspace allocation, module load
        ours = wall(step)
        keys = torch.randn(n, device="cuda")
        sort = wall(lambda: torch.sort(keys))
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            step()
            torch.cuda.synchronize()
        averages = prof.key_averages()
        try:
            table = averages.table(sort_by="self_device_time_total", row_limit=15)
        except (AttributeError, KeyError, ValueError):  # older torch names it after CUDA
            table = averages.table(sort_by="self_cuda_time_total", row_limit=15)
        lines += ["", f"== {name}: {ours * 1e3:.3f} ms per call, torch.sort(n={n:,}) {sort * 1e3:.3f} ms "
                      f"({ours / sort:.1f}x)", table]
        summary.append(f"{name:45s} {ours * 1e3:9.3f} ms   torch.sort {sort * 1e3:8.3f} ms   {ours / sort:6.1f}x")
        del step
        torch.cuda.empty_cache()
    report = "\n".join(lines + ["", "summary (call time, torch.sort of the same n, ratio):"] + summary)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    print("\n".join(summary))


if __name__ == "__main__":
    main()

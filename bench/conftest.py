import os
import sys

# The plain-torch references live with the tests; the benchmarks time against them.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))


def pytest_benchmark_update_machine_info(config, machine_info):
    import torch

    import fastrank

    machine_info["torch_version"] = torch.__version__
    machine_info["fastrank_threads"] = fastrank.num_threads()
    machine_info["fastrank_cpu_target"] = fastrank.cpu_target()
    flags = set(machine_info.get("cpu", {}).get("flags", []))
    machine_info["vector_flags"] = sorted(flags & {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl",
                                                   "avx512bw"})
    if fastrank.cuda_available():
        machine_info["gpu"] = torch.cuda.get_device_name()

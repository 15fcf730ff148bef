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
    if fastrank.cuda_available():
        machine_info["gpu"] = torch.cuda.get_device_name()

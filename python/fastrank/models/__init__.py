"""The networks search spaces build (``space.to_module(arch, num_classes=...)``), and counting."""
from .counting import count_flops, count_parameters, count_torchstat_flops
from .network import Network

__all__ = ["Network", "count_flops", "count_parameters", "count_torchstat_flops"]

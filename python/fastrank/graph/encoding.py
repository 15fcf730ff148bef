"""Architectures → batched graph tensors (adjacency, node operations, node mask)."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence, Tuple, Union

import numpy as np
import torch

from .. import _C, _native
from .._native import require_cuda
from ..spaces import NASBench201, NASBenchMacro, SearchSpace, TransNASMacro, TransNASMicro

# Spaces whose codes the native encoder turns into graphs (src/cpp/graph_encode.cpp), and their
# tags, which kernels.h names as the spaces name themselves.
_NATIVE_TAGS = {space: _native.TAGS["graph_space"][space.name]
                for space in (NASBench201, TransNASMicro, NASBenchMacro, TransNASMacro)}

GraphBatch = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def natively_encoded(space: SearchSpace) -> bool:
    """Whether :func:`encode_codes` (the native encoder) takes this space's codes."""
    return type(space) in _NATIVE_TAGS


def encode_codes(space: SearchSpace, codes, dtype: torch.dtype = torch.float32) -> GraphBatch:
    """Integer codes of an enumerable space → ``(adjacency (B, N, N), ops (B, N) int64,
    mask (B, N) bool)`` in one native call (all of NB201 takes a few milliseconds).
    The layout equals :meth:`SearchSpace.graph` of each decoded architecture. Codes in a
    CUDA tensor are encoded on their GPU."""
    tag = _NATIVE_TAGS.get(type(space))
    if tag is None:
        raise TypeError(f"{type(space).__name__} has no native encoder; use encode_architectures")
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    codes = torch.as_tensor(codes)
    if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
        raise TypeError(f"codes must be integers, got dtype {codes.dtype}")
    if codes.device.type == "cuda":
        require_cuda("codes")
        return _encode(space, tag, codes, dtype, "device")
    return _encode(space, tag, codes.cpu(), dtype, "cpu")


@lru_cache(maxsize=8)
def whole_space_graphs(space_type: type, dtype: torch.dtype = torch.float32) -> GraphBatch:
    """Every architecture of a natively encoded space, by code, encoded once per process
    and shared (read-only: callers gather rows from it)."""
    space = space_type()
    return encode_codes(space, torch.arange(space.size), dtype)


def _encode(space: SearchSpace, tag: int, codes: torch.Tensor, dtype: torch.dtype, kernel: str) -> GraphBatch:
    """kernel "cpu": the C++ kernel; "device": the device algorithm (CUDA kernels for CUDA
    codes, its host twin for CPU ones)."""
    codes = codes.reshape(-1).to(torch.int64).contiguous()
    n, nodes = codes.numel(), _C.graph_space_nodes(tag)
    adjacency = torch.empty(n, nodes, nodes, dtype=dtype, device=codes.device)
    ops = torch.empty(n, nodes, dtype=torch.int64, device=codes.device)
    mask = torch.empty(n, nodes, dtype=torch.bool, device=codes.device)
    status = _native.call("encode_graphs", kernel, codes.device, tag, _native.dtype_tag(dtype), codes, n, ops,
                          adjacency, mask)
    _native.check_status(status, "encode_graphs", bad_codes=f"codes must lie in 0..{space.size - 1} for {space.name}")
    return adjacency, ops, mask


def encode_architectures(space: SearchSpace, archs: Sequence, dtype: torch.dtype = torch.float32) -> GraphBatch:
    """Any space's architectures → the same batch layout, padded to the space's
    ``max_nodes`` (through :meth:`SearchSpace.graph`, in Python)."""
    n, nodes = len(archs), space.max_nodes
    adjacency = np.zeros((n, nodes, nodes), dtype=np.float64)
    ops = np.zeros((n, nodes), dtype=np.int64)
    mask = np.zeros((n, nodes), dtype=bool)
    for b, arch in enumerate(archs):
        g = space.graph(arch)
        k = g.ops.shape[0]
        adjacency[b, :k, :k] = g.adjacency
        ops[b, :k] = g.ops
        mask[b, :k] = True
    return torch.from_numpy(adjacency).to(dtype), torch.from_numpy(ops), torch.from_numpy(mask)


def encode(space: SearchSpace, archs_or_codes: Union[Sequence, torch.Tensor, np.ndarray],
           dtype: torch.dtype = torch.float32) -> GraphBatch:
    """Codes (natively, for enumerable spaces) or architectures → graph batch."""
    if isinstance(archs_or_codes, (torch.Tensor, np.ndarray)) and natively_encoded(space):
        return encode_codes(space, archs_or_codes, dtype)
    return encode_architectures(space, archs_or_codes, dtype)

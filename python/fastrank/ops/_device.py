"""Calls the device algorithms of src/cuda: on CUDA tensors as CUDA kernels, or on CPU
tensors through their host twin (the same item functions run as loops, which is how the
GPU algorithms are tested on machines without a GPU).

Every call is a size query followed by the run, CUB style: the workspace comes from
torch's allocator on the tensors' device and the kernels run on torch's current stream.
Data errors come back as a status word that is read after the call; inside a CUDA graph
capture it cannot be read (that would synchronise), so captured calls skip that check.
"""
from __future__ import annotations

import torch

from .. import _C

TWIN = 0
CUDA = 1
# The stream argument of twin calls; _C.TWIN_AS_IF_CAPTURED makes the twin take the paths CUDA
# takes inside a graph capture (values not read back), which tests use.
TWIN_STREAM = 0


def backend_of(device: torch.device) -> int:
    return CUDA if device.type == "cuda" else TWIN


def capturing(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_current_stream_capturing()


def _error(name: str, code: int) -> RuntimeError:
    if code == _C.DEVICE_BUILT_WITHOUT_CUDA:
        return RuntimeError(f"fastrank was built without CUDA kernels, so {name} cannot run on a CUDA tensor")
    if code == _C.DEVICE_WORKSPACE_TOO_SMALL:
        return RuntimeError(f"{name}: workspace smaller than the size query asked for (a fastrank bug)")
    reason = _C.cuda_error_string(code) if getattr(_C, "has_cuda", False) else f"code {code}"
    return RuntimeError(f"{name} failed on the GPU: {reason}")


def call(name: str, device: torch.device, *args) -> int:
    """Runs ``_C.<name>_device`` on ``device`` and returns its status word (0 when the
    status cannot be read because a CUDA graph is being captured)."""
    fn = getattr(_C, name + "_device")
    backend = backend_of(device)
    if backend == CUDA:
        with torch.cuda.device(device):
            return _call(fn, name, backend, device, torch.cuda.current_stream(device).cuda_stream, args)
    return _call(fn, name, backend, device, TWIN_STREAM, args)


def _call(fn, name, backend, device, stream, args) -> int:
    need = fn(backend, *args, 0, 0, 0, stream)
    if need < 0:
        raise _error(name, need)
    workspace = torch.empty(max(need, 1), dtype=torch.uint8, device=device)
    status = torch.zeros(1, dtype=torch.int32, device=device)
    code = fn(backend, *args, workspace.data_ptr(), need, status.data_ptr(), stream)
    if code:
        raise _error(name, code)
    return 0 if capturing(device) else int(status.item())

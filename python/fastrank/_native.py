"""The one boundary between torch and the compiled extension ``_C``.

Everything that crosses it goes through here: the kernels' option tags (dtype, reduction, ...)
and status bits as ``_C`` declares them, raw tensor addresses, the CPU and device calls (with
their workspace and status word), the status word → exception mapping, and the registration of
each kernel as a ``torch.ops.fastrank`` op together with its eager twin. Other modules describe
an op (checks, output allocation, routing) in torch terms and pass tensors; none reads
``data_ptr()`` or a status bit itself. It also reports what the build can run (CPU vector
targets, CUDA, threads).
"""
from __future__ import annotations

import torch

from . import _C

__all__ = ["cpu_target", "cpu_targets", "cuda_available", "num_threads", "set_cpu_target", "set_num_threads"]

CPU_TARGETS = ("avx512", "avx2", "baseline")


def _check_cpu_target_at_import() -> None:
    import os

    usable = _C.cpu_targets_usable()
    if not usable:  # a single-target build (FASTRANK_CPU_TARGET) on a CPU without that target
        raise ImportError("this fastrank build has vector code for a CPU target this CPU lacks; rebuild it with "
                          "-C cmake.define.FASTRANK_CPU_TARGET=dispatch (the default)")
    wanted = os.environ.get("FASTRANK_CPU_TARGET")
    if wanted and wanted not in usable:
        raise ImportError(f"FASTRANK_CPU_TARGET={wanted!r} is not usable here; this build and CPU can run "
                          f"{', '.join(usable)}")


_check_cpu_target_at_import()


def cuda_available() -> bool:
    """Whether fastrank's CUDA kernels were compiled in and a CUDA device is usable.

    Importing fastrank never touches a GPU driver; this asks torch only when called.
    """
    global _CUDA_USABLE
    if _CUDA_USABLE is None:
        _CUDA_USABLE = _probe_cuda()
    return _CUDA_USABLE


_CUDA_USABLE = None


def require_cuda(what: str) -> None:
    """The one error for a CUDA tensor that fastrank's CUDA kernels cannot take: a RuntimeError
    (the build or the machine is at fault, not the value passed)."""
    if not cuda_available():
        why = "this build has no CUDA kernels" if not getattr(_C, "has_cuda", False) else "no usable GPU"
        raise RuntimeError(f"{what} is on a CUDA device but fastrank's CUDA kernels are not available ({why}; "
                           "fastrank.cuda_available() is False); move the tensors to the CPU")


def _probe_cuda() -> bool:
    if not getattr(_C, "has_cuda", False):
        return False
    import torch

    # torch first: it sets up the primary context the kernels share; then our own runtime,
    # which also checks that the binary has code for this GPU and that the driver is new
    # enough for the CUDA version it was built with.
    return torch.cuda.is_available() and _C.cuda_probe() == 0


def cpu_target() -> str:
    """The vector code the CPU kernels run: "avx512", "avx2" (with FMA) or "baseline" (x86-64 SSE2,
    or the only code on other architectures). The widest the CPU has unless narrowed by
    set_cpu_target or the FASTRANK_CPU_TARGET environment variable."""
    return _C.cpu_target()


def cpu_targets() -> list:
    """The targets this build and this CPU can run, widest first."""
    return list(_C.cpu_targets_usable())


def set_cpu_target(name: str) -> None:
    """Selects the vector code of the CPU kernels (for measuring the narrower targets; results
    agree to rounding across targets)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in CPU_TARGETS:
        raise ValueError(f"name must be one of {', '.join(CPU_TARGETS)}, got {name!r}")
    if not _C.set_cpu_target(name):
        raise ValueError(f"CPU target {name!r} is not usable here; this build and CPU can run "
                         f"{', '.join(cpu_targets())}")


def num_threads() -> int:
    """Threads the CPU kernels spread lists over (default: all cores)."""
    return _C.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the CPU kernels' thread count; 0 restores the default (all cores)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    limit = max_threads()
    if n > limit:  # each is an OS thread: tens of thousands starve the machine and never finish
        raise ValueError(f"n must be at most {limit} (4 threads per core on this machine), got {n}")
    _C.set_num_threads(n)


def max_threads() -> int:
    """The largest thread count set_num_threads accepts: 4 per core (at least 16)."""
    import os

    return max(16, 4 * (os.cpu_count() or 1))


# ---------------------------------------------------------------------------------------------
# tags: the kernels' options as ints

# {option: {name: int}}, as kernels.h declares them (_C.TAGS): "dtype", "reduction", "rank_weight",
# "gain", "pair_loss", "graph_space". Python writes no tag number of its own.
TAGS = {option: dict(table) for option, table in _C.TAGS.items()}
_TAG_VALUES = {option: frozenset(table.values()) for option, table in TAGS.items()}


def tag(option: str, name) -> int:
    """The tag of an option given by name, as the public functions take it."""
    tags = TAGS[option]
    if name not in tags:
        raise ValueError(f"{option} must be one of {tuple(tags)}, got {name!r}")
    return tags[name]


def check_tag(option: str, value) -> int:
    """A tag given as its int, as the raw ops take it (_C refuses others with the same words)."""
    if value not in _TAG_VALUES[option]:
        choices = [f"{v} ({name})" for name, v in TAGS[option].items()]
        listed = " or ".join(filter(None, (", ".join(choices[:-1]), choices[-1])))
        raise ValueError(f"{option} tag must be {listed}, got {value}")
    return value


# The kernels' element types; every float kernel is a template over both.
DTYPE_TAGS = {getattr(torch, name): value for name, value in TAGS["dtype"].items()}
FLOAT_DTYPES = tuple(DTYPE_TAGS)


def dtype_tag(dtype: torch.dtype) -> int:
    return DTYPE_TAGS[dtype]


# ---------------------------------------------------------------------------------------------
# addresses

_TENSOR_TYPES = frozenset({torch.Tensor, torch.nn.Parameter})
_SCALAR_TYPES = frozenset({int, float, bool})
_data_ptr = torch.Tensor.data_ptr


def _raw(args) -> list:
    """Tensors → their addresses; every other argument as it is. (Exact type tests first: this
    runs on every kernel call, and isinstance on each argument was a microsecond of it.)"""
    return [_data_ptr(a) if type(a) in _TENSOR_TYPES else a if type(a) in _SCALAR_TYPES else _raw_other(a)
            for a in args]


def _raw_other(a):
    return _data_ptr(a) if isinstance(a, torch.Tensor) else a


def struct(cls, **fields):
    """A bound argument struct of _C (named fields) whose tensor fields become addresses."""
    return cls(**{k: v.data_ptr() if isinstance(v, torch.Tensor) else v for k, v in fields.items()})


def addresses(tensors) -> tuple:
    """The tensors' addresses, to tell whether a cached call's buffers moved."""
    return tuple(map(_data_ptr, tensors))


# ---------------------------------------------------------------------------------------------
# status words

# {key: bit} and {key: default message} of every status bit, as kernels.h declares them, in the
# order they are reported when several bits are set.
STATUS = dict(_C.STATUS)
_STATUS_MESSAGES = dict(_C.STATUS_MESSAGES)


def check_status(status: int, kernel: str, **messages: str) -> None:
    """Raises for a kernel's status word: ValueError for a data error (its message overridable
    per bit by key: nonfinite_scores=..., bad_codes=..., ...), RuntimeError for a bit no
    caller knows (a fastrank bug)."""
    if not status:
        return
    unknown = messages.keys() - STATUS.keys()
    if unknown:  # a misspelt key would leave its bit with the default message
        raise TypeError(f"{kernel}: no status bit is called {', '.join(sorted(unknown))}")
    for key, bit in STATUS.items():
        if status & bit:
            raise ValueError(messages.get(key, _STATUS_MESSAGES[key]))
    raise RuntimeError(f"{kernel} kernel returned unknown status {status}")


# ---------------------------------------------------------------------------------------------
# calls

def call(name: str, kernel: str, device: torch.device, *args) -> int:
    """Runs kernel `name` on tensor arguments and returns its status word. kernel "cpu": the
    C++ kernel ``_C.<name>_cpu``; "device": the device algorithm ``_C.<name>_device`` (CUDA
    kernels for CUDA tensors, their host twin for CPU ones)."""
    if kernel == "cpu":
        fn = _CPU_KERNELS.get(name) or _cpu_kernel(name)
        return fn(*[_data_ptr(a) if type(a) in _TENSOR_TYPES else a if type(a) in _SCALAR_TYPES else _raw_other(a)
                    for a in args])  # _raw, inline: this is every eager op's path
    return device_call(name, device, *args)


_CPU_KERNELS = {}


def _cpu_kernel(name: str):
    fn = _CPU_KERNELS.get(name)
    if fn is None:
        fn = _CPU_KERNELS[name] = getattr(_C, name + "_cpu")
    return fn


def cpu_arguments(*args) -> tuple:
    """Arguments for a ``_C.<name>_cpu`` call: tensors (also inside lists) as addresses."""
    return tuple(_raw(a) if isinstance(a, (list, tuple)) else a for a in _raw(args))


def call_cpu(name: str, *args):
    """``_C.<name>_cpu`` on tensor arguments (lists of tensors become lists of addresses),
    returning what it returns."""
    return _cpu_kernel(name)(*cpu_arguments(*args))


def call_cpu_prepared(name: str, prepared: tuple, *scalars):
    """``_C.<name>_cpu`` on arguments converted once by :func:`cpu_arguments` (a call repeated
    on the same buffers), then scalars."""
    return _cpu_kernel(name)(*prepared, *scalars)


def kernel_for(t: torch.Tensor) -> str:
    """The C++ kernel for CPU tensors, the device algorithm for the rest."""
    return "cpu" if t.device.type == "cpu" else "device"


# Device calls: backends of the ``_device`` entry points.
TWIN = 0
CUDA = 1
# The stream argument of twin calls; _C.TWIN_AS_IF_CAPTURED makes the twin take the paths CUDA
# takes inside a graph capture (values not read back), which tests use.
TWIN_STREAM = 0


def backend_of(device: torch.device) -> int:
    return CUDA if device.type == "cuda" else TWIN


def capturing(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_current_stream_capturing()


def _device_error(name: str, code: int) -> RuntimeError:
    if code == _C.DEVICE_BUILT_WITHOUT_CUDA:
        return RuntimeError(f"fastrank was built without CUDA kernels, so {name} cannot run on a CUDA tensor")
    if code == _C.DEVICE_WORKSPACE_TOO_SMALL:
        return RuntimeError(f"{name}: workspace smaller than the size query asked for (a fastrank bug)")
    reason = _C.cuda_error_string(code) if getattr(_C, "has_cuda", False) else f"code {code}"
    return RuntimeError(f"{name} failed on the GPU: {reason}")


def device_call(name: str, device: torch.device, *args) -> int:
    """Runs the device algorithm ``_C.<name>_device`` on ``device`` (CUDA kernels on a CUDA
    device, the host twin on the CPU) and returns its status word.

    CUB style: a size query, then the run with a workspace from torch's allocator on the
    tensors' device, on torch's current stream. Data errors come back as a status word read
    after the call; inside a CUDA graph capture it cannot be read (that would synchronise),
    so captured calls return 0."""
    fn = getattr(_C, name + "_device")
    backend = backend_of(device)
    args = _raw(args)
    if backend == CUDA:
        with torch.cuda.device(device):
            return _device_run(fn, name, backend, device, torch.cuda.current_stream(device).cuda_stream, args)
    return _device_run(fn, name, backend, device, TWIN_STREAM, args)


def _device_run(fn, name, backend, device, stream, args) -> int:
    need = fn(backend, *args, 0, 0, 0, stream)
    if need < 0:
        raise _device_error(name, need)
    workspace = torch.empty(max(need, 1), dtype=torch.uint8, device=device)
    status = torch.zeros(1, dtype=torch.int32, device=device)
    code = fn(backend, *args, workspace.data_ptr(), need, status.data_ptr(), stream)
    if code:
        raise _device_error(name, code)
    return 0 if capturing(device) else int(status.item())


# ---------------------------------------------------------------------------------------------
# ops

_LIB = torch.library.Library("fastrank", "DEF")


def define_op(name: str, schema: str, run, fake, *, setup_context=None, backward=None):
    """Registers ``torch.ops.fastrank.<name>`` and returns the function that calls it.

    ``run(kernel, *inputs)`` is its implementation: kernel "cpu" for CPU tensors, "device" for
    CUDA ones (see :func:`call`). ``fake(*inputs)`` gives the outputs' metadata for tracing.
    With ``setup_context(ctx, inputs, output)`` and ``backward(ctx, *grads)`` the op is
    differentiable (``torch.library.register_autograd``) in its first output; further outputs
    are data for the backward (the list ops' gradient), and the returned function returns the
    first output only.

    The returned function calls the registered op while torch.compile traces and on other
    device types; in eager CPU/CUDA code it calls the eager twin instead: the same run,
    setup_context and backward without the dispatcher's per-call Python overhead (tens of
    microseconds, most of a small op). ``ctx.eager`` is True in the twin's backward only: a
    backward that calls another fastrank op calls its ``.op`` unless ``ctx.eager``, for the
    registered backward also runs under the compiler's tracing, on tensors without data.
    """
    _LIB.define(name + schema)
    _LIB.impl(name, lambda *inputs: run("cpu", *inputs), "CPU")
    _LIB.impl(name, lambda *inputs: run("device", *inputs), "CUDA")
    qualname = f"fastrank::{name}"
    torch.library.register_fake(qualname, fake, lib=_LIB)
    op = getattr(torch.ops.fastrank, name)
    if backward is None:
        def eager(*inputs):
            return _first(run(kernel_for(inputs[0]), *inputs))
    else:
        torch.library.register_autograd(qualname, backward, setup_context=setup_context, lib=_LIB)
        twin = _eager_twin(name, run, setup_context, backward)
        functorch_twin = _functorch_twin(name, run, setup_context, backward)

        def eager(*inputs):
            if torch._C._are_functorch_transforms_active():
                _refuse_nested_derivatives(name)
                return _first(functorch_twin.apply(*inputs))
            return twin.apply(*inputs)

    def dispatch(*inputs):
        if inputs[0].device.type in ("cpu", "cuda") and not torch.compiler.is_compiling():
            return eager(*inputs)
        return _first(op(*inputs))

    dispatch.__name__ = dispatch.__qualname__ = name
    dispatch.op = op  # what a registered backward calls: it may run on traced (fake) tensors
    return dispatch


def _eager_twin(name: str, run, setup_context, backward) -> type:
    # Only the first output leaves the twin: the others are saved for the backward, never
    # returned, so that autograd neither wraps them nor lets one become a parameter's .grad
    # that is then accumulated into in place.
    def forward(ctx, *inputs):
        output = run(kernel_for(inputs[0]), *inputs)
        ctx.eager = True
        setup_context(ctx, inputs, output)
        if isinstance(output, tuple):
            ctx.extra = (None,) * (len(output) - 1)
            return output[0]
        ctx.extra = ()
        return output

    def twin_backward(ctx, grad):
        return backward(ctx, grad, *ctx.extra)

    return type(f"Eager_{name}", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(twin_backward)})


def _functorch_twin(name: str, run, setup_context, backward) -> type:
    # The twin under torch.func transforms (grad, vmap, jacrev, ...), which need forward and
    # setup_context apart and a vmap rule. Its outputs are the op's; no parameter's .grad is
    # accumulated under a transform, so the saved extra outputs cannot be aliased.
    def forward(*inputs):
        return run(kernel_for(inputs[0]), *inputs)

    def vmap(info, in_dims, *inputs):
        # The kernels take one batch of lists already: a vmapped call runs them once per
        # vmapped row (through the function again, so that gradients flow), stacked on dim 0.
        rows = [twin.apply(*[x.select(d, b) if d is not None else x for x, d in zip(inputs, in_dims)])
                for b in range(info.batch_size)]
        if isinstance(rows[0], tuple):
            outputs = tuple(torch.stack(parts) for parts in zip(*rows))
            return outputs, (0,) * len(outputs)
        return torch.stack(rows), 0

    twin = type(f"Functorch_{name}", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "setup_context": staticmethod(setup_context),
                 # torch.func.grad runs backward with grad mode on (ready for higher orders); the
                 # kernels give first derivatives only, which once_differentiable enforces
                 "backward": staticmethod(torch.autograd.function.once_differentiable(backward)),
                 "vmap": staticmethod(vmap)})
    return twin


def _refuse_nested_derivatives(name: str) -> None:
    """Under nested torch.func derivative transforms (grad of grad, ...) the inner backward
    would run without a derivative of its own and the outer one see zero: refused instead."""
    from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters
    from torch._C._functorch import TransformType

    derivatives = sum(i.key() in (TransformType.Grad, TransformType.Jvp) for i in retrieve_all_functorch_interpreters())
    if derivatives > 1:
        raise RuntimeError(f"fastrank's {name} gives first derivatives only; nested torch.func derivatives "
                           "(grad of grad, hessian, ...) are not supported")


def _first(output):
    return output[0] if isinstance(output, tuple) else output

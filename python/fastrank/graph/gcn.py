"""Fused directed GCN propagation (native forward and backward) and the graph encoders."""
from __future__ import annotations

import torch

from .. import _C, _native
from .._native import require_cuda
from .._checks import check_int

__all__ = ["gcn_propagate", "GCNEncoder", "GINEncoder", "check_graph_batch"]


def _check_raw(h: torch.Tensor, adj: torch.Tensor) -> None:
    if h.dtype not in _native.DTYPE_TAGS or adj.dtype != h.dtype:
        raise TypeError(f"h and adj must share a float32/float64 dtype, got {h.dtype} and {adj.dtype}")
    if h.dim() != 3 or adj.dim() != 3 or adj.shape != (h.shape[0], h.shape[1], h.shape[1]):
        raise ValueError(f"h must be (batch, nodes, features) and adj (batch, nodes, nodes); got {tuple(h.shape)} "
                         f"and {tuple(adj.shape)}")
    if not (h.is_contiguous() and adj.is_contiguous()):
        raise ValueError("h and adj must be contiguous")
    if adj.device != h.device:
        raise ValueError(f"adj is on {adj.device} but h is on {h.device}")
    if h.device.type == "cuda":
        require_cuda("h")
    if h.device.type not in ("cpu", "cuda"):
        raise ValueError(f"gcn_propagate runs on CPU and CUDA tensors, got {h.device}")
    if h.shape[1] > _C.GCN_MAX_NODES:
        raise ValueError(f"graphs may have at most {_C.GCN_MAX_NODES} nodes, got {h.shape[1]}")


def _propagate(kernel, h, adj, relu):
    """The kernels check the values as they read them."""
    _check_raw(h, adj)
    out = torch.empty_like(h)
    status = _native.call("gcn_propagate", kernel, h.device, _native.dtype_tag(h.dtype), *h.shape, relu, h, adj, out)
    if status:
        _native.check_status(status, "gcn_propagate", nonfinite_scores="h contains NaN or infinity")
    return out


def _propagate_backward(kernel, d_out, adj, out, relu):
    d_out = d_out.contiguous()
    _check_raw(out, adj)
    d_h = torch.empty_like(out)
    _native.call("gcn_propagate_backward", kernel, out.device, _native.dtype_tag(out.dtype), *out.shape, relu, d_out,
                 adj, out, d_h)
    return d_h


_propagate_backward_op = _native.define_op(
    "gcn_propagate_backward", "(Tensor d_out, Tensor adj, Tensor out, bool relu) -> Tensor", _propagate_backward,
    lambda d_out, adj, out, relu: torch.empty_like(out))


def _setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1], output)
    ctx.relu = inputs[2]


def _backward(ctx, d_out):
    if torch.is_grad_enabled():
        raise RuntimeError("gcn_propagate does not support double backward (create_graph=True)")
    adj, out = ctx.saved_tensors
    if getattr(ctx, "eager", False):
        return _propagate_backward(_native.kernel_for(out), d_out, adj, out, ctx.relu), None, None
    return _propagate_backward_op.op(d_out, adj, out, ctx.relu), None, None


_propagate_op = _native.define_op("gcn_propagate", "(Tensor h, Tensor adj, bool relu) -> Tensor", _propagate,
                                  lambda h, adj, relu: torch.empty_like(h), setup_context=_setup, backward=_backward)


def gcn_propagate(h: torch.Tensor, adj: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    r"""Directed GCN propagation of NPENAS / NASLib, fused in native code:
    :math:`\mathrm{act}\big(\tfrac12(D_f^{-1}(A + I)H + D_b^{-1}(A^\top + I)H)\big)` with
    :math:`D_f, D_b` the row sums of :math:`A + I` and :math:`A^\top + I`.

    Args:
        h: node features (batch, nodes, features), float32 or float64.
        adj: adjacency (batch, nodes, nodes), ``adj[b, i, j]`` the weight (usually 0/1) of
            edge i → j; non-negative, finite; data only (no gradient flows to it).
        activation: "relu" or None.
    """
    if not isinstance(h, torch.Tensor) or not isinstance(adj, torch.Tensor):
        raise TypeError("h and adj must be tensors")
    if not h.is_floating_point():
        raise TypeError(f"h must be a floating-point tensor, got {h.dtype}")
    if h.dtype not in _native.DTYPE_TAGS:
        h = h.float()
    if adj.device != h.device:
        raise ValueError(f"adj is on {adj.device} but h is on {h.device}")
    if adj.requires_grad:
        raise ValueError("adj must not require grad: the adjacency is data")
    if activation not in ("relu", None):
        raise ValueError(f"activation must be 'relu' or None, got {activation!r}")
    adj = adj.to(h.dtype).contiguous()
    h = h.contiguous()
    return _propagate_op(h, adj, activation == "relu")


def check_graph_batch(adj, ops, mask, dtype):
    """A batch of encoded graphs for the native encoder kernels (CPU): adj (B, N, N), ops (B, N)
    integer op ids, mask (B, N) bool. Returns adj in `dtype` and ops as int64, all contiguous."""
    for name, t in (("adj", adj), ("ops", ops), ("mask", mask)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, got {type(t).__name__}")
        if t.device.type != "cpu":
            raise ValueError(f"the native encoder runs on the CPU but {name} is on {t.device}")
    if adj.dim() != 3 or adj.shape[1] != adj.shape[2] or ops.shape != adj.shape[:2] or mask.shape != ops.shape:
        raise ValueError(f"expected adj (B, N, N), ops and mask (B, N); got {tuple(adj.shape)}, "
                         f"{tuple(ops.shape)}, {tuple(mask.shape)}")
    if adj.shape[1] > _C.GCN_MAX_NODES:
        raise ValueError(f"graphs may have at most {_C.GCN_MAX_NODES} nodes, got {adj.shape[1]}")
    if ops.dtype.is_floating_point or ops.is_complex() or ops.dtype == torch.bool or mask.dtype != torch.bool:
        raise TypeError(f"ops must be integer op ids and mask a boolean tensor, got {ops.dtype} and {mask.dtype}")
    return adj.to(dtype).contiguous(), ops.to(torch.int64).contiguous(), mask.contiguous()


def check_encoder_status(status: int, n_ops: int, kernel: str, **messages: str) -> None:
    """The data errors the encoder kernels find while reading (see kernels.h)."""
    _native.check_status(status, kernel, bad_codes=f"ops must be op ids in 0..{n_ops - 1}", **messages)


def _pool(h: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    weights = mask.to(h.dtype).unsqueeze(-1)
    if pooling == "sum":
        return (h * weights).sum(1)
    if pooling == "mean":
        return (h * weights).sum(1) / weights.sum(1).clamp_min(1)
    raise ValueError(f"pooling must be 'mean' or 'sum', got {pooling!r}")


def _check_encoder(n_ops: int, width: int, layers: int, pooling: str) -> None:
    for name, value in (("n_ops", n_ops), ("width", width), ("layers", layers)):
        check_int(value, name)
    if pooling not in ("mean", "sum"):
        raise ValueError(f"pooling must be 'mean' or 'sum', got {pooling!r}")


class GCNEncoder(torch.nn.Module):
    """Operation embeddings → ``layers`` × (linear, fused directed GCN propagation, ReLU)
    → pooling over the valid nodes. ``forward(adj, ops, mask) -> (batch, width)``."""

    def __init__(self, n_ops: int, width: int = 64, layers: int = 4, pooling: str = "mean"):
        super().__init__()
        _check_encoder(n_ops, width, layers, pooling)
        self.embed = torch.nn.Embedding(n_ops, width)
        self.linears = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(layers))
        self.pooling = pooling

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # linear(embed(ops)) = linear(embed.weight)[ops]: the first layer runs on the n_ops-row
        # table instead of every node of the batch.
        first, *rest = self.linears
        table = first(self.embed.weight)
        if not torch.is_grad_enabled() and adj.device.type == "cpu" and not torch.compiler.is_compiling():
            return self._infer(table, adj, ops, mask)
        _check_op_ids(ops, table.shape[0])
        h = gcn_propagate(table[ops], adj, "relu")
        for linear in rest:
            h = gcn_propagate(linear(h), adj, "relu")
        return _pool(h, mask, self.pooling)


    def _infer(self, table, adj, ops, mask) -> torch.Tensor:
        """The whole encoder per graph in one native call (no autograd): every graph's
        activations stay in cache instead of batch-sized tensors per layer."""
        if table.dtype not in _native.DTYPE_TAGS:
            raise TypeError(f"native inference runs in float32/float64, not {table.dtype}")
        adj, ops, mask = check_graph_batch(adj, ops, mask, table.dtype)
        rest = self.linears[1:]
        width = table.shape[1]
        weight_t = (torch.stack([linear.weight.t() for linear in rest]) if len(rest)
                    else table.new_zeros(0, width, width)).contiguous()
        bias = (torch.stack([linear.bias for linear in rest]) if len(rest) else table.new_zeros(0, width)).contiguous()
        table = table.contiguous()
        out = table.new_empty(adj.shape[0], width)
        status = _native.call_cpu(
            "gcn_encoder_forward", _native.dtype_tag(table.dtype), adj.shape[0], adj.shape[1], width, len(rest),
            table.shape[0], self.pooling == "mean", table, ops, adj, mask, weight_t, bias, out)
        check_encoder_status(status, table.shape[0], "gcn encoder")
        return out


def _check_op_ids(ops: torch.Tensor, n_ops: int) -> None:
    """Op ids outside 0..n_ops-1 are refused as the native paths refuse them: indexing the
    table would wrap -1 round to the last operation without a word."""
    if not isinstance(ops, torch.Tensor) or ops.dtype.is_floating_point or ops.is_complex() or ops.dtype == torch.bool:
        raise TypeError(f"ops must be an integer tensor of op ids, got {getattr(ops, 'dtype', type(ops).__name__)}")
    if torch.compiler.is_compiling() or ops.numel() == 0:
        return
    if bool((ops < 0).any()) or bool((ops >= n_ops).any()):
        raise ValueError(f"ops must be op ids in 0..{n_ops - 1}")


def _checked_adjacency(adj, ops: torch.Tensor, mask, dtype: torch.dtype) -> torch.Tensor:
    """The torch-side encoders' graph batch, checked as the native kernels check it: adj
    (B, N, N) of edge weights (float or bool), finite and non-negative, mask (B, N) bool."""
    if not isinstance(adj, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError("adj and mask must be tensors")
    if adj.dim() != 3 or adj.shape[1] != adj.shape[2] or ops.shape != adj.shape[:2] or mask.shape != ops.shape:
        raise ValueError(f"expected adj (B, N, N), ops and mask (B, N); got {tuple(adj.shape)}, "
                         f"{tuple(ops.shape)}, {tuple(mask.shape)}")
    if not (adj.dtype.is_floating_point or adj.dtype == torch.bool) or mask.dtype != torch.bool:
        raise TypeError(f"adj must hold edge weights (float or bool) and mask be boolean, got {adj.dtype} and "
                        f"{mask.dtype}")
    for name, t in (("adj", adj), ("mask", mask)):
        if t.device != ops.device:
            raise ValueError(f"{name} is on {t.device} but ops is on {ops.device}")
    adj = adj.to(dtype)
    if not torch.compiler.is_compiling() and adj.numel() and not bool((torch.isfinite(adj) & (adj >= 0)).all()):
        raise ValueError("adj must be finite and non-negative")
    return adj


class GINEncoder(torch.nn.Module):
    """GIN on the undirected view of each DAG: h ← MLP((1 + ε)h + (A + Aᵀ)h), ε learned,
    then pooling over valid nodes. ``forward(adj, ops, mask) -> (batch, width)``."""

    def __init__(self, n_ops: int, width: int = 64, layers: int = 4, pooling: str = "sum"):
        super().__init__()
        _check_encoder(n_ops, width, layers, pooling)
        self.embed = torch.nn.Embedding(n_ops, width)
        self.mlps = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Linear(width, width))
            for _ in range(layers))
        self.eps = torch.nn.Parameter(torch.zeros(layers))
        self.pooling = pooling

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check_op_ids(ops, self.embed.num_embeddings)
        h = self.embed(ops)
        adj = _checked_adjacency(adj, ops, mask, h.dtype)
        undirected = adj + adj.transpose(1, 2)
        for eps, mlp in zip(self.eps, self.mlps):
            h = torch.relu(mlp((1 + eps) * h + undirected @ h))
        return _pool(h, mask, self.pooling)

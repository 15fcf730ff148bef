"""A GCN performance predictor whose training step runs its forward and backward natively."""
from __future__ import annotations

import math
from typing import Callable, Union

import torch

from .. import _C, _native
from ..nn import make_loss
from .gcn import GCNEncoder, check_graph_batch, check_encoder_status
from .._checks import check_int

__all__ = ["GCNPredictor"]

LossLike = Union[str, torch.nn.Module, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]


class GCNPredictor(torch.nn.Module):
    """GCNEncoder → MLP head (width → hidden, ReLU, → outputs): one score per architecture
    graph, or ``outputs`` of them (one per weak label when pretraining several heads).

    ``forward(adj, ops, mask) -> (batch,)`` (``(batch, outputs)`` when outputs > 1) is an
    ordinary differentiable module.
    ``train_step(adj, ops, mask, targets, optimizer, loss)`` is one training step with the
    same result as ::

        optimizer.zero_grad()
        loss = loss_fn(predictor(adj, ops, mask), targets)
        loss.backward()
        optimizer.step()

    where, on CPU, the predictor's forward and its backward into every parameter are one
    native call each; only the loss (any differentiable function of the scores) runs in
    torch. With :class:`fastrank.optim.FusedAdam` the update is one more native call.
    """

    def __init__(self, n_ops: int, width: int = 64, layers: int = 4, hidden: int = None, pooling: str = "mean",
                 outputs: int = 1):
        super().__init__()
        self.encoder = GCNEncoder(n_ops, width, layers, pooling)
        hidden = width if hidden is None else hidden
        for name, value in (("hidden", hidden), ("outputs", outputs)):
            check_int(value, name)
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, outputs))
        self._losses = {}

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.head(self.encoder(adj, ops, mask))
        return out.squeeze(-1) if out.shape[-1] == 1 else out

    def train_step(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor, targets: torch.Tensor,
                   optimizer: torch.optim.Optimizer, loss: LossLike = "MSE") -> torch.Tensor:
        """One optimisation step on a batch of graphs; returns the (detached) loss.

        ``loss``: a registered loss name (``fastrank.nn.LOSSES``), a module, or any
        ``fn(scores, targets) -> scalar tensor``. Raises ValueError, with the parameters
        untouched, if the loss or its gradient is not finite. Falls back to the torch step
        (same result) where the native one does not apply: parameters off the CPU or not
        all float32/float64, or ``encoder``/``head`` replaced by other modules.
        """
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        loss_fn = self._loss_fn(loss)
        params = self._native_params()
        if params is None:
            return torch_step(self, (adj, ops, mask), targets, optimizer, loss_fn)
        adj, ops, mask = self._check_graphs(adj, ops, mask, params[0].dtype)
        shape = self._shape(params, adj)
        scores, saved = self._native_forward(params, shape, adj, ops, mask)
        scores.requires_grad_(True)
        with torch.enable_grad():
            value = loss_fn(scores, targets)
            _check_loss(value)
            (d_scores,) = torch.autograd.grad(value, scores)
        self._native_backward(params, shape, adj, ops, mask, saved, d_scores.to(params[0].dtype).contiguous())
        _clear_other_grads(optimizer, params)
        optimizer.step()
        return value.detach()

    def _loss_fn(self, loss: LossLike):
        if isinstance(loss, str):
            if loss not in self._losses:
                self._losses[loss] = make_loss(loss)
            return self._losses[loss]
        if not callable(loss):
            raise TypeError(f"loss must be a loss name, a module or a callable, got {type(loss).__name__}")
        return loss

    def _native_params(self):
        """The parameters in the native kernels' order, or None where the native step does
        not apply (a replaced encoder or head, parameters off the CPU, mixed dtypes).
        Reads the modules' own dicts: nn.Module attribute lookups are most of this call."""
        encoder, head = self._modules["encoder"], self._modules["head"]
        if type(encoder) is not GCNEncoder or type(head) is not torch.nn.Sequential or len(head) != 3:
            return None
        first, relu, last = head._modules.values()
        if type(first) is not torch.nn.Linear or type(relu) is not torch.nn.ReLU or type(last) is not torch.nn.Linear:
            return None
        embed = encoder._modules["embed"]
        if first.in_features != embed.embedding_dim or last.in_features != first.out_features:
            return None
        params = [embed._parameters["weight"]]
        for linear in encoder._modules["linears"]._modules.values():
            params += linear._parameters.values()
        params += first._parameters.values()
        params += last._parameters.values()
        dtype = params[0].dtype
        if dtype not in _native.DTYPE_TAGS or len(params) != 2 * len(encoder.linears) + 5:
            return None
        # the shapes the kernels index with: a module swapped for one of another size goes to torch
        width, hidden, outputs = embed.embedding_dim, first.out_features, last.out_features
        expected = [(embed.num_embeddings, width)] + [(width, width), (width,)] * len(encoder.linears) + [
            (hidden, width), (hidden,), (outputs, hidden), (outputs,)]
        for p, shape in zip(params, expected):
            if p is None or not p.is_cpu or p.dtype is not dtype or not p.is_contiguous() or p.shape != shape:
                return None
        return params

    @staticmethod
    def _check_graphs(adj, ops, mask, dtype):
        if isinstance(adj, torch.Tensor) and not adj.dtype.is_floating_point and adj.dtype != torch.bool:
            raise TypeError(f"adj must hold edge weights (float or bool), got {adj.dtype}")
        return check_graph_batch(adj, ops, mask, dtype)

    def _shape(self, params, adj):
        """The native passes' sizes, from the parameters and the batch."""
        batch, nodes = adj.shape[:2]
        (n_ops, width), hidden, outputs = params[0].shape, params[-4].shape[0], params[-1].shape[0]
        return _C.PredictorShape(dtype=_native.dtype_tag(params[0].dtype), batch=batch, nodes=nodes, features=width,
                                 layers=(len(params) - 5) // 2, hidden=hidden, table_rows=n_ops, outputs=outputs,
                                 mean_pool=self.encoder.pooling == "mean")

    def _native_forward(self, params, shape, adj, ops, mask):
        p0 = params[0]
        saved = (p0.new_empty(shape.layers, shape.batch, shape.nodes, shape.features),
                 p0.new_empty(shape.batch, shape.features), p0.new_empty(shape.batch, shape.hidden))
        scores = p0.new_empty(shape.batch) if shape.outputs == 1 else p0.new_empty(shape.batch, shape.outputs)
        buffers = _native.struct(_C.PredictorBuffers, ops=ops, adj=adj, mask=mask, activations=saved[0],
                                 pooled=saved[1], head_hidden=saved[2], scores=scores)
        _check_status(_native.call_cpu("gcn_predictor_forward", shape, buffers, params), shape.table_rows)
        return scores, saved

    def _native_backward(self, params, shape, adj, ops, mask, saved, d_scores) -> None:
        """Writes every parameter's gradient, as zero_grad + backward would: into the
        existing .grad where it has the parameter's layout (what zero_grad(set_to_none=False)
        and backward do), else into a fresh tensor. Raises before writing anything if d_scores
        is not finite."""
        targets, fresh = [], []  # targets: the tensors written, kept alive through the call
        for p in params:
            g = p.grad
            if not p.requires_grad:  # frozen: torch computes no gradient, and zero_grad cleared it
                if g is not None:
                    p.grad = None
                g = torch.empty_like(p, memory_format=torch.contiguous_format)
            elif g is None or g.shape != p.shape or g.dtype is not p.dtype or not g.is_cpu or not g.is_contiguous():
                g = torch.empty_like(p, memory_format=torch.contiguous_format)
                fresh.append((p, g))
            targets.append(g)
        buffers = _native.struct(_C.PredictorBuffers, ops=ops, adj=adj, mask=mask, activations=saved[0],
                                 pooled=saved[1], head_hidden=saved[2], d_scores=d_scores)
        _check_status(_native.call_cpu("gcn_predictor_backward", shape, buffers, params, targets), shape.table_rows)
        for p, g in fresh:
            p.grad = g


def torch_step(model, graphs, targets, optimizer, loss_fn) -> torch.Tensor:
    """One ordinary torch training step of any graph model ``model(adj, ops, mask)``; raises,
    with the parameters untouched, on a non-scalar or non-finite loss. Returns the loss."""
    optimizer.zero_grad()
    value = loss_fn(model(*graphs), targets)
    _check_loss(value)
    value.backward()
    optimizer.step()
    return value.detach()


def _clear_other_grads(optimizer, params) -> None:
    """zero_grad's effect on the optimizer's parameters that are not the predictor's."""
    ours = {id(p) for p in params}
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in ours and p.grad is not None:
                p.grad = None

def _check_loss(value) -> None:
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        raise ValueError("the loss must return a scalar (0-dim) tensor; use reduction='mean' or 'sum'")
    if not math.isfinite(value.item()):
        raise ValueError(f"the loss is not finite ({value.item()}); the parameters were not updated")


def _check_status(status: int, table_rows: int) -> None:
    check_encoder_status(status, table_rows, "gcn predictor",  # only the backward reads d_scores:
                         nonfinite_scores="the loss's gradient with respect to the scores is not finite; the "
                                          "parameters were not updated")

"""Train a network and measure it: the objective of a search over real networks.

The recipe is NAS-Bench-201's, scaled down: SGD with Nesterov momentum 0.9, weight decay
5e-4, a learning rate of 0.1 annealed to 0 by a cosine over the epochs, cross-entropy. A run
is deterministic for its seed on a given device and thread count: the seed fixes the initial
weights and the order of the batches. Progress goes to the ``fastrank.train`` logger (one line
per epoch), never to stdout, so searches that train many networks keep a clean terminal."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
from torch import nn

from ._checks import check_int

log = logging.getLogger("fastrank.train")

Data = Tuple[torch.Tensor, torch.Tensor]  # (inputs, integer class labels)


@dataclass(frozen=True)
class TrainResult:
    valid_accuracy: float  #: top-1 on the validation data after the last epoch, in [0, 1]
    train_loss: float  #: mean cross-entropy of the last epoch
    epochs: int
    seconds: float


def _check_data(data, what: str) -> Data:
    if not (isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data)):
        raise TypeError(f"{what} is a pair (inputs, labels) of tensors")
    x, y = data
    if x.shape[0] != y.shape[0] or y.dim() != 1:
        raise ValueError(f"{what}: {x.shape[0]} inputs but labels of shape {tuple(y.shape)} (one label per input)")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    if y.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{what}: labels must be integer class indices, got {y.dtype}")
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise ValueError(f"{what}: inputs must be finite floating-point values")
    return x, y.long()


def accuracy(model: nn.Module, data: Data, batch_size: int = 256, device: Union[str, torch.device] = "cpu") -> float:
    """Top-1 accuracy of ``model`` (in eval mode) on ``data``, in [0, 1]."""
    x, y = _check_data(data, "data")
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            logits = model(x[start:start + batch_size].to(device))
            correct += int((logits.argmax(1).cpu() == y[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / x.shape[0]


def train(model: nn.Module, train_data: Data, valid_data: Data, epochs: int = 10, *, batch_size: int = 64,
          lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 5e-4, aux_weight: float = 0.4,
          device: Union[str, torch.device] = "cpu", seed: int = 0, logger: Optional[logging.Logger] = None
          ) -> TrainResult:
    """Trains ``model`` in place for ``epochs`` epochs on ``train_data`` and returns its
    validation accuracy (a :class:`TrainResult`). ``seed`` fixes the batch order (seed the
    weights before building the model: ``torch.manual_seed``). A model that returns
    ``(logits, aux_logits)`` in training (DARTS with its auxiliary head) adds ``aux_weight``
    times the auxiliary loss, as DARTS does. A loss that turns NaN or infinite raises
    FloatingPointError (a diverged run: a search records it as failed)."""
    check_int(epochs, "epochs")
    check_int(batch_size, "batch_size")
    check_int(seed, "seed", 0)
    for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay), ("aux_weight", aux_weight)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    x, y = _check_data(train_data, "train_data")
    _check_data(valid_data, "valid_data")
    logger = logger or log
    device = torch.device(device)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                                nesterov=momentum > 0)
    steps_per_epoch = math.ceil(x.shape[0] / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    criterion = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    mean_loss = float("nan")
    model.train()
    for epoch in range(epochs):
        total, seen = 0.0, 0
        for idx in torch.randperm(x.shape[0], generator=order).split(batch_size):
            inputs, labels = x[idx].to(device), y[idx].to(device)
            out = model(inputs)
            if isinstance(out, tuple):
                logits, aux = out
                loss = criterion(logits, labels) + aux_weight * criterion(aux, labels)
            else:
                loss = criterion(out, labels)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the training loss became {float(loss.detach())} in epoch {epoch + 1}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        mean_loss = total / seen
        logger.info("epoch %d/%d: train loss %.4f", epoch + 1, epochs, mean_loss)
    valid = accuracy(model, valid_data, device=device)
    seconds = time.perf_counter() - started
    logger.info("trained %d epochs in %.1f s: valid accuracy %.4f", epochs, seconds, valid)
    return TrainResult(valid, mean_loss, epochs, seconds)


__all__ = ["TrainResult", "accuracy", "train"]

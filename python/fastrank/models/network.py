"""What every network a search space builds shares: the shape of one input, example inputs
(for tracing, export and FLOP counts) and checked size arguments."""

from typing import Tuple

import torch
from torch import nn


class Network(nn.Module):
    """A plain ``nn.Module`` that also knows the shape of one input example (without batch),
    so that it can be exported, summarised and counted without further arguments."""

    input_shape: Tuple[int, ...] = (3, 32, 32)

    def example_inputs(self, batch: int = 2) -> Tuple[torch.Tensor, ...]:
        """Random forward inputs for ``batch`` examples, on the network's device."""
        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        return (torch.randn(positive_int("batch", batch), *self.input_shape, device=device),)


def positive_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int ≥ minimum, or a ValueError/TypeError that names the argument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def image_shape(in_channels, image_size, halvings: int = 0) -> Tuple[int, int, int]:
    """(channels, height, width) of one input image, checked; ``halvings``: how many times the
    network halves the resolution (the image must survive them)."""
    shape = positive_int("in_channels", in_channels), positive_int("image_size", image_size), image_size
    if image_size < 2 ** halvings:
        raise ValueError(f"image_size {image_size} is too small for {halvings} halvings")
    return shape


def check_constructors(names, constructors, what: str) -> None:
    """Every name in ``names`` has a constructor, or a ValueError naming those that do not."""
    unknown = sorted(set(names) - set(constructors))
    if unknown:
        raise ValueError(f"no constructor for {what}(s) {unknown}; given: {sorted(constructors)}")

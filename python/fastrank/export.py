"""A built network described and written out: parameters, FLOPs and a layer summary, and a
``torch.export`` program that plain ``torch.export.load`` reads where fastrank is not installed.

Image networks are exported with a dynamic batch dimension (any batch size runs); networks with
other inputs (graphs) with the shapes of their example inputs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from .models import count_flops, count_parameters

#: the classifier's classes and the input size of each benchmark dataset a table names
DATASET_SIZES: Dict[str, dict] = {
    "cifar10": dict(num_classes=10),
    "cifar100": dict(num_classes=100),
    "imagenet16": dict(num_classes=120, image_size=16),
    "class_object": dict(num_classes=100),
    "class_scene": dict(num_classes=63),
}


def benchmark_sizes(benchmark: str) -> Optional[dict]:
    """The ``to_module`` sizes of a benchmark's dataset (``"nb201/cifar100"`` → 100 classes), or
    None when its task is not classification (the TransNAS-Bench-101 dense tasks, graphs)."""
    dataset = benchmark.split("/", 1)[-1]
    for name, sizes in DATASET_SIZES.items():
        if dataset == name or dataset.startswith(name + "-") or dataset.startswith(name + "_"):
            return dict(sizes)
    return None


def export(model: nn.Module, path=None) -> torch.export.ExportedProgram:
    """``model`` (in eval mode) as an exported program, written to ``path`` when given."""
    model = model.eval()
    inputs = model.example_inputs(2)
    dynamic = None
    if len(inputs) == 1 and inputs[0].dim() == 4:
        dynamic = ({0: torch.export.Dim("batch", min=1, max=1 << 16)},)
    with torch.no_grad():
        program = torch.export.export(model, inputs, dynamic_shapes=dynamic)
    if path is not None:
        path = Path(path)
        # written beside it, then renamed: a killed run never leaves half a program under the name.
        # The part's name ends in .pt2 too: torch's archive writer warns the user about any other
        part = path.with_name(path.name + ".part.pt2")
        try:
            torch.export.save(program, str(part))
            os.replace(part, path)
        except RuntimeError as err:  # torch's archive writer reports a missing or read-only folder so
            raise OSError(str(err)) from None
        finally:
            part.unlink(missing_ok=True)
    return program


def layer_summary(model: nn.Module) -> List[Tuple[str, str, str, int]]:
    """(name, type, output shape of one example, parameters) of the network's top-level parts,
    with sequences of parts (stages, cells) listed one entry each."""
    parts: List[Tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        if isinstance(child, (nn.Sequential, nn.ModuleList)) and len(child) > 1 and not _is_plain_block(child):
            parts.extend((f"{name}.{i}", c) for i, c in enumerate(child))
        else:
            parts.append((name, child))
    shapes: Dict[int, str] = {}
    handles = [m.register_forward_hook(lambda m, a, out, key=id(m): shapes.__setitem__(key, _shape(out)))
               for _, m in parts]
    try:
        model.eval()
        with torch.no_grad():
            model(*model.example_inputs(1))
    finally:
        for h in handles:
            h.remove()
    return [(name, type(m).__name__, shapes.get(id(m), "-"), count_parameters(m)) for name, m in parts]


def _is_plain_block(seq: nn.Module) -> bool:
    # a conv-BN-ReLU style sequence reads better as one line than as its layers
    return all(not any(True for _ in c.children()) for c in seq)


def _shape(out) -> str:
    if isinstance(out, torch.Tensor):
        return "x".join(str(d) for d in out.shape[1:]) or "scalar"
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape(o) for o in out)
    return type(out).__name__


def describe(model: nn.Module) -> str:
    """Parameters, FLOPs (multiply-accumulates of convolutions and linear layers per example)
    and the layer summary, as text."""
    inputs = model.example_inputs(1)
    lines = [f"parameters  {count_parameters(model):,}",
             f"FLOPs       {count_flops(model, inputs):,} multiply-accumulates per example",
             f"input       {' and '.join('x'.join(str(d) for d in t.shape[1:]) for t in inputs)}", ""]
    rows = [("layer", "type", "output", "parameters")] + [(n, t, s, f"{p:,}") for n, t, s, p in layer_summary(model)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i]) for i in range(4)).rstrip())
    return "\n".join(lines)


def write_found_model(space, arch, folder: Path, sizes: dict, name: str = "model.pt2") -> Optional[Path]:
    """``folder/name``: the found architecture's network, exported; None where the space
    builds no network."""
    try:
        model = space.to_module(arch, **sizes)
    except (NotImplementedError, ImportError):
        return None
    path = Path(folder) / name
    export(model, path)
    return path


__all__ = ["benchmark_sizes", "describe", "export", "layer_summary", "write_found_model"]

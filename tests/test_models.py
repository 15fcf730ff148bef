"""Every space's network: forward and backward on a batch, torch.export, and the exported
program read back by plain torch.export.load in a process where fastrank cannot be imported."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from fastrank.export import describe, export, layer_summary
from fastrank.models import count_parameters
from fastrank.spaces import BUILT_IN_SPACES, CellSpace, ChainSpace, get_space

# small sizes keep the suite quick; the benchmarks' own sizes are checked per space in test_models_<space>.py
SMALL = {
    "nb201": dict(channels=4, cells_per_stage=1),
    "nb101": dict(stem_channels=8, cells_per_stack=1),
    "darts": dict(channels=4, cells=3),
    "tnb101_micro": dict(image_size=32),
    "tnb101_macro": dict(image_size=32),
    "nasbench_macro": dict(),
}


def _space(name):
    if name == "nasbench_graph":
        pytest.importorskip("torch_geometric")
    return get_space(name)


def _small_model(name, num_classes=5):
    space = _space(name)
    arch = space.sample(np.random.default_rng(3))
    torch.manual_seed(0)
    return space.to_module(arch, num_classes=num_classes, **SMALL.get(name, {}))


@pytest.mark.parametrize("name", sorted(BUILT_IN_SPACES))
def test_forward_and_backward_on_a_batch(name):
    model = _small_model(name).train()
    inputs = model.example_inputs(3)
    out = model(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape[-1] == 5 and torch.isfinite(out).all()
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    if name == "nasbench_graph":  # the benchmark's GNN keeps a batch norm per op even where it is not used
        grads = [g for g in grads if g is not None]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILT_IN_SPACES))
def test_every_space_exports(name, tmp_path):
    model = _small_model(name).eval()
    inputs = model.example_inputs(2)
    program = export(model, tmp_path / "m.pt2")
    with torch.no_grad():
        assert torch.allclose(program.module()(*inputs), model(*inputs), atol=1e-5)


def test_export_writes_the_program_and_nothing_else_without_a_warning(tmp_path, caplog):
    model = _small_model("nb201").eval()
    with caplog.at_level(logging.WARNING):
        export(model, tmp_path / "m.pt2")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt2"]  # the part it was written to is gone
    assert not [r for r in caplog.records if "archive" in r.getMessage()], caplog.text


@pytest.mark.slow
def test_exported_program_loads_without_fastrank(tmp_path):
    model = _small_model("nb201").eval()
    export(model, tmp_path / "m.pt2")
    x = torch.randn(7, *model.input_shape)
    torch.save(x, tmp_path / "x.pt")
    with torch.no_grad():
        torch.save(model(x), tmp_path / "y.pt")
    script = textwrap.dedent(f"""
        import sys
        sys.modules["fastrank"] = None  # any import of fastrank now fails
        import torch
        program = torch.export.load({str(tmp_path / 'm.pt2')!r})
        x = torch.load({str(tmp_path / 'x.pt')!r})
        y = program.module()(x)  # a batch of 7: the batch dimension was exported dynamic
        assert torch.allclose(y, torch.load({str(tmp_path / 'y.pt')!r}), atol=1e-5)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_describe_lists_parameters_flops_and_layers():
    model = _small_model("nb201")
    text = describe(model)
    assert f"parameters  {count_parameters(model):,}" in text and "FLOPs" in text
    rows = layer_summary(model)
    assert sum(p for *_, p in rows) == count_parameters(model)
    assert rows[-1][0] == "classifier" and rows[-1][2] == "5"


def test_spaces_without_a_network_say_so():
    class Listed(CellSpace):
        def to_module(self, arch, num_classes=10, **sizes):
            return super(CellSpace, self).to_module(arch, num_classes, **sizes)

    space = Listed(nodes=3, ops=["a1", "b2"])
    with pytest.raises(NotImplementedError, match="does not build networks"):
        space.to_module(space.sample(np.random.default_rng(0)))


def test_chain_and_cell_spaces_build_networks_of_their_shape():
    cell = CellSpace(nodes=5, ops=["none", "skip", "conv3x3"])
    model = cell.to_module(cell.sample(np.random.default_rng(1)), channels=4, cells_per_stage=2, image_size=8)
    assert len(model.cells) == 3 * 2 + 2 and model(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    chain = ChainSpace(layers=5, choices=["identity", "conv3x3"])
    model = chain.to_module((1, 0, 1, 1, 0), channels=4, stages=2, image_size=8)
    assert len(model.layers) == 5 and model(torch.randn(2, 3, 8, 8)).shape == (2, 10)

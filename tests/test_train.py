"""fastrank.train and the training objectives: the recipe, determinism, bad input, digits,
user objectives; and `fastrank search --objective` / `fastrank model` as a user runs them."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from fastrank.objectives import (DIGITS_SPLIT, ObjectiveError, digits_data, digits_objective, load_objective,
                                 register_objective)
from fastrank.spaces import NASBench201, NASBench101
from fastrank.train import accuracy, train

TESTS = Path(__file__).parent
NB201 = NASBench201()
ARCH = NB201.parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")


def _blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 3 * nn.functional.one_hot(y, 4).float()
    return x, y


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


def test_training_learns_and_is_deterministic_for_a_seed():
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Linear()
        results.append((train(model, _blobs(), _blobs(seed=1), epochs=5, seed=3), model.fc.weight.detach().clone()))
    (a, wa), (b, wb) = results
    assert a.valid_accuracy > 0.9 and a.epochs == 5 and a.seconds > 0
    assert a.valid_accuracy == b.valid_accuracy and a.train_loss == b.train_loss and torch.equal(wa, wb)
    torch.manual_seed(0)
    other = Linear()
    train(other, _blobs(), _blobs(seed=1), epochs=5, seed=4)  # another batch order
    assert not torch.equal(other.fc.weight, wa)


def test_learning_rate_follows_a_cosine_to_zero():
    torch.manual_seed(0)
    model = Linear()
    seen = []
    original = torch.optim.SGD.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.SGD.step = step
    try:
        train(model, _blobs(64), _blobs(), epochs=4, batch_size=16, lr=0.1)
    finally:
        torch.optim.SGD.step = original
    assert len(seen) == 16 and seen[0] == pytest.approx(0.1)
    assert seen[8] == pytest.approx(0.05 * (1 + np.cos(np.pi * 8 / 16)))
    assert all(a >= b for a, b in zip(seen, seen[1:]))


def test_progress_goes_to_the_logger_not_stdout(caplog, capsys):
    with caplog.at_level(logging.INFO, logger="fastrank.train"):
        train(Linear(), _blobs(), _blobs(), epochs=2)
    assert capsys.readouterr().out == ""
    assert [r.message.split(":")[0] for r in caplog.records][:2] == ["epoch 1/2", "epoch 2/2"]


def test_a_diverging_run_raises():
    with pytest.raises(FloatingPointError, match="training loss became"):
        train(Linear(), _blobs(), _blobs(), epochs=3, lr=1e30)


@pytest.mark.parametrize("change, error, message", [
    (dict(epochs=0), ValueError, "epochs must be a positive int"),
    (dict(batch_size=1.5), TypeError, "batch_size must be a positive int"),
    (dict(lr=float("nan")), ValueError, "lr must be a finite non-negative number"),
    (dict(train_data=(torch.randn(5, 4), torch.zeros(4, dtype=torch.long))), ValueError, "one label per input"),
    (dict(train_data=(torch.randn(5, 4), torch.zeros(5))), TypeError, "integer class indices"),
    (dict(valid_data=(torch.full((5, 4), float("inf")), torch.zeros(5, dtype=torch.long))), ValueError, "finite"),
    (dict(train_data=[torch.randn(5, 4), torch.zeros(5, dtype=torch.long)]), TypeError, "pair"),
])
def test_bad_training_input_is_refused(change, error, message):
    kwargs = dict(train_data=_blobs(), valid_data=_blobs(), epochs=1, **{})
    kwargs.update(change)
    with pytest.raises(error, match=message):
        train(Linear(), **kwargs)


def test_accuracy_counts_correct_predictions():
    model = Linear()
    with torch.no_grad():
        model.fc.weight.copy_(torch.eye(3, 4))
        model.fc.bias.zero_()
    x = torch.eye(3, 4)[[0, 1, 2, 0]]
    assert accuracy(model, (x, torch.tensor([0, 1, 2, 1]))) == 0.75


def test_digits_split_is_fixed_and_disjoint():
    data = digits_data()
    sizes = tuple(len(data[k][1]) for k in ("train", "valid", "test"))
    assert sizes == DIGITS_SPLIT
    assert data["train"][0].shape[1:] == (1, 8, 8) and data["train"][0].dtype == torch.float32
    assert abs(float(data["train"][0].mean())) < 1e-5
    rows = {tuple(x.flatten().tolist()) for k in data for x in data[k][0]}
    assert len(rows) >= sum(sizes) - 20  # a handful of digits are drawn identically in the dataset itself
    assert set(data["test"][1].tolist()) == set(range(10))


def test_digits_objective_trains_nb201_networks():
    objective = digits_objective(NB201, epochs=2)
    assert objective.sizes["in_channels"] == 1 and objective.sizes["image_size"] == 8
    value = objective(ARCH)
    assert 30 < value <= 100
    assert objective(ARCH) == value  # deterministic: the same weights, the same batches
    none = objective(NB201.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    assert none < 20  # the output is cut off: chance level
    report = objective.report(ARCH)
    assert report["valid_accuracy"] == value and 30 < report["test_accuracy"] <= 100


def test_objectives_by_name_and_by_module(tmp_path, monkeypatch):
    monkeypatch.chdir(TESTS)
    assert load_objective("user_space:score", NB201) is __import__("user_space").score
    for spec, message in [("nope", "unknown objective 'nope'"), ("no_such_module:f", "cannot import"),
                          ("user_space:missing", "has no 'missing'"), ("user_space:WIDTHS", "not callable"),
                          (":f", "unknown objective")]:
        with pytest.raises(ObjectiveError, match=message):
            load_objective(spec, NB201)
    register_objective("constant", lambda space: (lambda arch: 1.0), replace=True)
    assert load_objective("constant", NB201)(ARCH) == 1.0
    with pytest.raises(ValueError, match="registered already"):
        register_objective("digits", lambda space: None)


def test_digits_objective_needs_a_space_with_networks():
    class Bare(NASBench201):
        def to_module(self, arch, num_classes=10, **sizes):
            raise NotImplementedError("the bare space does not build networks")

    with pytest.raises(ObjectiveError, match="does not build networks"):
        digits_objective(Bare())
    with pytest.raises(ObjectiveError, match="cannot build nb101 networks for 8x8"):
        digits_objective(NASBench101(), cells_per_stack="x")


def fastrank(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastrank", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("args, message", [
    (["--space", "nb201", "--objective", "nope"], "unknown objective 'nope'"),
    (["--space", "nb201", "--objective", "no_such_module:evaluate"], "cannot import the objective's module"),
    (["--space", "nb999", "--objective", "digits"], "unknown space 'nb999'"),
    (["--objective", "digits"], "needs --space"),
    (["--space", "nb201"], "names the space of --objective"),
    (["--benchmark", "nb201/cifar10", "--space", "nb201", "--objective", "digits"], "give one"),
    (["--space", "nb201", "--objective", "digits", "--strategy", "acenas"], "weak labels"),
])
def test_search_objective_usage_errors_exit_2_and_write_nothing(args, message, tmp_path):
    out = tmp_path / "out"
    done = fastrank("search", *args, "--out", str(out), "--quiet", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # usage line + one error line, no traceback
    assert not out.exists()


@pytest.mark.slow
def test_search_with_the_digits_objective_reports_and_writes_the_model(tmp_path):
    out = tmp_path / "out"
    done = fastrank("search", "--space", "nb201", "--objective", "digits", "--strategy", "random", "--budget", "2",
                    "--quiet", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for line in ("objective     digits on nb201", "valid accuracy", "test accuracy", "model.pt2"):
        assert line in done.stdout
    program = torch.export.load(str(out / "model.pt2"))
    assert program.module()(torch.randn(4, 1, 8, 8)).shape == (4, 10)


@pytest.mark.slow
def test_model_command_prints_and_exports(tmp_path):
    path = tmp_path / "m.pt2"
    done = fastrank("model", "nb201", NB201.to_string(ARCH), "--classes", "100", "--out", str(path))
    assert done.returncode == 0, done.stderr
    assert "parameters  593,236" in done.stdout and "cells.5     ResidualReduction" in done.stdout
    assert torch.export.load(str(path)).module()(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    again = fastrank("model", "nb201", NB201.to_string(ARCH), "--out", str(path))
    assert again.returncode == 2 and "exists" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["nb201", "|bad|"], "not an NB201 string"),
    (["nb999", "x"], "unknown space"),
    (["nb201", NB201.to_string(ARCH), "--size", "channels=x"], "channels must be an int"),
    (["nb201", NB201.to_string(ARCH), "--size", "widht=3"], "widht"),
    (["nb201", NB201.to_string(ARCH), "--size", "channels=0"], "channels must be at least 1"),
])
def test_model_command_usage_errors(args, message, tmp_path):
    done = fastrank("model", *args, "--out", str(tmp_path / "m.pt2"))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "m.pt2").exists()


def test_an_auxiliary_head_adds_its_weighted_loss():
    class WithAux(Linear):
        def __init__(self):
            super().__init__()
            self.aux = nn.Linear(4, 3)

        def forward(self, x):
            return (self.fc(x), self.aux(x)) if self.training else self.fc(x)

    for weight in (0.0, 0.4):
        torch.manual_seed(0)
        model = WithAux()
        train(model, _blobs(), _blobs(), epochs=2, aux_weight=weight)
        assert (model.aux.weight.grad is not None and model.aux.weight.grad.abs().sum() > 0) == (weight > 0)


@pytest.mark.slow
def test_model_command_refuses_a_missing_or_read_only_folder(tmp_path):
    missing = fastrank("model", "nb201", NB201.to_string(ARCH), "--out", str(tmp_path / "no" / "m.pt2"))
    assert missing.returncode == 2 and "there is no folder" in missing.stderr and "Traceback" not in missing.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        done = fastrank("model", "nb201", NB201.to_string(ARCH), "--out", str(locked / "m.pt2"))
        if done.returncode == 0:  # root writes anywhere: nothing to refuse
            assert (locked / "m.pt2").exists()
        else:
            assert done.returncode == 2 and "cannot write" in done.stderr and "Traceback" not in done.stderr
        assert not (locked / "m.pt2.part.pt2").exists()
    finally:
        locked.chmod(0o700)

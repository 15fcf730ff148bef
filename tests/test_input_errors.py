"""Every public op rejects bad input with a clear ValueError/TypeError naming the argument."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fastrank

from fastrank.ops import LIST_OPS

OPS = {name: getattr(fastrank.ops, name) for name in fastrank.ops.__all__}  # every public list op
ops = pytest.mark.parametrize("op", list(OPS.values()), ids=list(OPS))


def good(n=8):
    return torch.randn(n, dtype=torch.float64), torch.arange(n, dtype=torch.float64) % 3


@ops
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_scores(op, bad):
    s, y = good()
    s[3] = bad
    with pytest.raises(ValueError, match="scores contain NaN or infinity"):
        op(s, y)
    with pytest.raises(ValueError, match="scores contain NaN or infinity"):
        op(s, y, group_sizes=[2, 6])


@ops
def test_non_finite_targets(op):
    s, y = good()
    y[0] = math.nan
    with pytest.raises(ValueError, match="targets contain NaN or infinity"):
        op(s, y)


@ops
def test_shape_mismatch(op):
    s, y = good()
    with pytest.raises(ValueError, match="targets has shape"):
        op(s, y[:-1])
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        op(s.reshape(2, 2, 2), y.reshape(2, 2, 2))
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        op(s[0], y[0])


@ops
def test_group_sizes(op):
    s, y = good()
    with pytest.raises(ValueError, match="group_sizes add up to 7 but scores has 8"):
        op(s, y, group_sizes=[3, 4])
    with pytest.raises(ValueError, match="group_sizes must be non-negative"):
        op(s, y, group_sizes=[10, -2])
    with pytest.raises(TypeError, match="group_sizes must hold integers"):
        op(s, y, group_sizes=[4.0, 4.0])
    with pytest.raises(TypeError, match="group_sizes must hold integers"):
        op(s, y, group_sizes=torch.tensor([4.0, 4.0]))
    with pytest.raises(ValueError, match="group_sizes applies to 1-D"):
        op(s.reshape(2, 4), y.reshape(2, 4), group_sizes=[4, 4])
    # accepted forms
    for sizes in ([4, 4], (4, 4), np.array([4, 4]), torch.tensor([4, 4], dtype=torch.int32)):
        op(s, y, group_sizes=sizes)


@ops
def test_mask(op):
    s, y = good()
    s, y = s.reshape(2, 4), y.reshape(2, 4)
    with pytest.raises(TypeError, match="mask must be a boolean tensor"):
        op(s, y, mask=torch.ones(2, 4))
    with pytest.raises(ValueError, match="mask has shape"):
        op(s, y, mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask applies to 2-D"):
        op(s.reshape(-1), y.reshape(-1), mask=torch.ones(8, dtype=torch.bool))


@ops
def test_dtypes(op):
    s, y = good()
    with pytest.raises(TypeError, match="scores must be a floating-point tensor"):
        op(torch.arange(8), y)
    with pytest.raises(TypeError, match="scores must be a torch.Tensor"):
        op([0.1] * 8, y)
    with pytest.raises(TypeError, match="targets must be real"):
        op(s, y.to(torch.complex64))
    # integer, bool and list targets are accepted and cast to the scores' dtype
    op(s, torch.arange(8) % 2)
    op(s, (torch.arange(8) % 2).bool())
    op(s, [0, 1, 2, 0, 1, 2, 0, 1])


@ops
def test_targets_requiring_grad(op):
    s, y = good()
    with pytest.raises(ValueError, match="targets must not require grad"):
        op(s, y.requires_grad_(True))


@ops
def test_reduction(op):
    s, y = good()
    with pytest.raises(ValueError, match="reduction must be one of"):
        op(s, y, reduction="avg")


@ops
def test_unsupported_device(op):
    s, y = good()
    with pytest.raises(ValueError, match="meta"):
        op(s.to("meta"), y.to("meta"))


@ops
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mixed_devices(op):
    s, y = good()
    with pytest.raises(ValueError, match="targets is on"):
        op(s, y.cuda())


def test_cuda_unavailable_is_one_runtime_error(monkeypatch):
    """Whatever the function, a CUDA tensor fastrank cannot take raises the same RuntimeError."""
    import fastrank._native as native
    from fastrank.ops.packing import supported_device

    monkeypatch.setattr(native, "_CUDA_USABLE", False)
    for call in (lambda: native.require_cuda("scores"), lambda: supported_device(torch.device("cuda", 0))):
        with pytest.raises(RuntimeError, match="scores is on a CUDA device but fastrank's CUDA kernels are not "
                                               "available .*move the tensors to the CPU"):
            call()


def test_mixed_devices_without_cuda():
    s, y = good()
    with pytest.raises(ValueError, match="targets is on meta but scores is on cpu"):
        fastrank.pairwise_hinge(s, y.to("meta"))


@pytest.mark.parametrize("margin", [-0.1, math.nan, math.inf, "1", None, True])
def test_bad_margin(margin):
    """One rule (scikit-learn's check_scalar): the wrong type is a TypeError, a number out of range
    a ValueError."""
    s, y = good()
    error = ValueError if isinstance(margin, float) else TypeError
    with pytest.raises(error, match="margin must be"):
        fastrank.pairwise_hinge(s, y, margin)
    with pytest.raises(error, match="margin must be"):
        fastrank.lambdarank(s, y, pair_loss="hinge", margin=margin)
    with pytest.raises(error, match="margin must be"):
        fastrank.losses.warp(s, y, margin)


@pytest.mark.parametrize("call", [
    lambda v: fastrank.graph.GCNEncoder(v), lambda v: fastrank.metrics.n_at_k([1.0, 2.0], [1.0, 2.0], v),
    lambda v: fastrank.search.run("nb201/cifar10", budget=v), lambda v: fastrank.nn.PiecewiseLoss("MSE", "HR", v),
])
def test_int_arguments_type_then_value(call):
    with pytest.raises(TypeError, match="int"):
        call(2.5)
    with pytest.raises(TypeError, match="int"):
        call("3")
    with pytest.raises(ValueError, match="int"):
        call(-1)


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan])
def test_bad_sigma(sigma):
    s, y = good()
    with pytest.raises(ValueError, match="sigma must be"):
        fastrank.pairwise_logistic(s, y, sigma)
    with pytest.raises(ValueError, match="sigma must be"):
        fastrank.lambdarank(s, y, sigma=sigma)


def test_lambdarank_arguments():
    s, y = good()
    with pytest.raises(ValueError, match="k must be at least 1"):
        fastrank.lambdarank(s, y, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        fastrank.lambdarank(s, y, k=2.5)
    with pytest.raises(ValueError, match="gain must be one of"):
        fastrank.lambdarank(s, y, gain="exp")
    with pytest.raises(ValueError, match="pair_loss must be one of"):
        fastrank.lambdarank(s, y, pair_loss="softmax")
    with pytest.raises(ValueError, match="non-negative"):
        fastrank.lambdarank(s, y - 1)
    with pytest.raises(ValueError, match="overflow the exp2 gain"):
        fastrank.lambdarank(s, y * 1000)
    fastrank.lambdarank(s, y * 1000, gain="linear")


def test_pair_weight_must_be_bool():
    s, y = good()
    with pytest.raises(TypeError, match="pair_weight must be a bool"):
        fastrank.pairwise_hinge(s, y, pair_weight="yes")


def test_raw_op_guards_the_native_boundary():
    s, y = good()
    with pytest.raises(ValueError, match="offsets must start at 0"):
        torch.ops.fastrank.pairwise_hinge(s, y, torch.tensor([0, 5]), 2, 1.0, False, False, 0)
    with pytest.raises(ValueError, match="never decrease"):
        torch.ops.fastrank.pairwise_hinge(s, y, torch.tensor([0, 6, 2, 8]), 2, 1.0, False, False, 0)
    with pytest.raises(ValueError, match="offsets must start at 0"):
        torch.ops.fastrank.lambdarank(s, y, torch.tensor([1, 8]), 2, 3, 0, 0, 1.0, 1.0)
    with pytest.raises(TypeError, match="targets must have the dtype"):
        torch.ops.fastrank.pairwise_logistic(s, y.float(), torch.tensor([0, 8]), 2, 1.0)
    with pytest.raises(ValueError, match="contiguous 1-D"):
        torch.ops.fastrank.pairwise_logistic(s[::2], y[::2], torch.tensor([0, 4]), 2, 1.0)
    with pytest.raises(ValueError, match="reduction tag"):
        torch.ops.fastrank.pairwise_logistic(s, y, torch.tensor([0, 8]), 3, 1.0)


def test_set_num_threads_checks():
    with pytest.raises(ValueError):
        fastrank.set_num_threads(-1)
    with pytest.raises(TypeError):
        fastrank.set_num_threads(2.0)
    assert fastrank.num_threads() >= 1
    assert fastrank.cuda_available() is False or torch.cuda.is_available()


@pytest.mark.parametrize("name", ["MSE", "MSE+SR", "ListMLE", "ListNet", "EW", "MAPE"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("where", ["scores", "targets"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_dense_losses_reject_non_finite(name, dtype, contiguous, where, bad):
    """The pointwise and listwise losses check finiteness natively for contiguous CPU
    tensors and with torch otherwise; both must catch every kind of bad value."""
    from fastrank.nn import make_loss

    s = torch.rand(16, dtype=dtype) + 0.5
    y = torch.rand(16, dtype=dtype) + 0.5
    (s if where == "scores" else y)[5] = bad
    if not contiguous:
        s, y = s.repeat_interleave(2)[::2], y.repeat_interleave(2)[::2]
        assert not s.is_contiguous()
    with pytest.raises(ValueError, match=f"{where} contain NaN or infinity"):
        make_loss(name)(s, y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_batches_of_empty_lists_are_zero_for_every_loss(reduction):
    """(3, 0) batches: zero loss and an empty gradient everywhere (the native ops used to
    raise 'step must be nonzero' while the torch-side losses returned zeros)."""
    from fastrank import nn as frnn

    fns = [fastrank.pairwise_hinge, fastrank.pairwise_squared_hinge, fastrank.pairwise_logistic,
           fastrank.lambdarank] + [fn for fn, _ in frnn.LOSSES.values()]
    for fn in fns:
        s = torch.zeros(3, 0, requires_grad=True)
        out = fn(s, torch.zeros(3, 0), reduction=reduction)
        assert out.shape == ((3,) if reduction == "none" else ()) and not out.detach().any(), fn.__name__
        out.sum().backward()
        assert s.grad is None or s.grad.shape == (3, 0)


@pytest.mark.parametrize("sizes", [[2**62] * 4 + [6], [2**70, 6], [7, -1], torch.tensor([2**62] * 4 + [6])])
def test_group_sizes_that_wrap_or_overrun_are_refused(sizes):
    """int64 sums of sizes can wrap round to n (4 x 2^62 + 6 == 6); the losses segfaulted."""
    from fastrank import losses as L

    for fn in (L.mse, L.mse_sequence_ranking, L.listmle, L.listnet, L.exp_weighted_mse, L.mape, L.hinge_ranking,
               L.warp, L.lambdarank, fastrank.pairwise_logistic, fastrank.pairwise_hinge):
        with pytest.raises(ValueError, match="group_sizes"):
            fn(torch.randn(6), torch.rand(6), group_sizes=sizes)
    with pytest.raises(ValueError, match="group_sizes"):
        L.acenas_relevance(torch.rand(6), group_sizes=sizes)


def test_acenas_relevance_refuses_complex_targets():
    """A complex tensor's real part alone would be graded: the imaginary part would vanish."""
    from fastrank import losses as L

    with pytest.raises(TypeError, match="real numbers"):
        L.acenas_relevance(torch.rand(6, dtype=torch.complex64))
    with pytest.raises(TypeError, match="real numbers"):
        L.acenas_relevance(np.array([1 + 2j, 3.0]))


def test_raw_ops_check_their_own_arguments():
    """torch.ops.fastrank.* validate scalars and LambdaRank's relevance themselves, not only
    the public wrappers."""
    ops = torch.ops.fastrank
    s, y = torch.randn(5, dtype=torch.float64), torch.rand(5, dtype=torch.float64)
    off = torch.tensor([0, 5])
    bad_calls = [
        (lambda: ops.pairwise_logistic(s, y, off, 2, math.nan), "sigma"),
        (lambda: ops.pairwise_logistic(s, y, off, 2, -1.0), "sigma"),
        (lambda: ops.pairwise_hinge(s, y, off, 2, -0.5, False, False, 0), "margin"),
        (lambda: ops.pairwise_hinge(s, y, off, 2, math.inf, False, False, 0), "margin"),
        (lambda: ops.pairwise_hinge(s, y, off, 2, 1.0, False, False, 7), "rank_weight"),
        (lambda: ops.lambdarank(s, y, off, 2, 0, 0, 0, 1.0, 1.0), "k must be at least 1"),
        (lambda: ops.lambdarank(s, y, off, 2, -3, 0, 0, 1.0, 1.0), "k must be at least 1"),
        (lambda: ops.lambdarank(s, y, off, 2, 3, 5, 0, 1.0, 1.0), "gain tag"),
        (lambda: ops.lambdarank(s, y, off, 2, 3, 0, 0, math.nan, 1.0), "sigma"),
        (lambda: ops.lambdarank(s, y, off, 2, 3, 0, 1, 1.0, -2.0), "margin"),
        (lambda: ops.lambdarank(s, -y - 1, off, 2, 3, 0, 0, 1.0, 1.0), "non-negative"),
    ]
    for call, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            call()
    loss, grad = ops.lambdarank(s, y, off, 2, -1, 0, 0, 1.0, 1.0)  # -1: the whole list
    assert torch.isfinite(loss) and grad.shape == s.shape
    with pytest.raises(ValueError, match="non-negative"):
        fastrank.lambdarank(s, -y - 1)  # the public function still refuses them, through the op


def _refused_values(hyper) -> list:
    """Values out of a hyperparameter's range, from what its spec says of it."""
    if hyper.tags is not None:
        return [-1, max(hyper.tags.values()) + 1]
    if hyper.type == "float":
        return [math.nan, math.inf, -1.0]  # every real hyperparameter is finite and >= 0
    return []


@pytest.mark.parametrize("name", list(LIST_OPS))
def test_raw_ops_refuse_every_hyperparameter_out_of_range(name):
    """From the specs: each option tag and real hyperparameter of each raw op, out of range, is
    refused with a ValueError naming it."""
    spec = LIST_OPS[name]
    s, y = torch.randn(5, dtype=torch.float64), torch.rand(5, dtype=torch.float64)
    mean = fastrank._native.tag("reduction", "mean")
    defaults = spec.arguments(**{h.name: h.samples[0] for h in spec.hypers})
    for i, hyper in enumerate(spec.hypers):
        for bad in _refused_values(hyper):
            with pytest.raises(ValueError, match=hyper.name):
                spec.op(s, y, torch.tensor([0, 5]), mean, *defaults[:i], bad, *defaults[i + 1:])


def test_status_bits_all_have_messages():
    """Every status bit of kernels.h reaches Python with its message, and none is left unknown."""
    from fastrank import _C, _native

    assert set(_C.STATUS) == set(_C.STATUS_MESSAGES) and "bad_shape" in _C.STATUS
    for key, bit in _native.STATUS.items():
        with pytest.raises(ValueError) as raised:
            _native.check_status(bit, "test")
        assert str(raised.value) == _C.STATUS_MESSAGES[key]
    with pytest.raises(ValueError, match="more nodes than"):
        _native.check_status(_native.STATUS["bad_shape"], "gcn predictor")
    above_every_bit = 1 << sum(_native.STATUS.values()).bit_length()
    with pytest.raises(RuntimeError, match="unknown status"):
        _native.check_status(above_every_bit, "test")


def test_margins_beyond_the_dtype_are_refused():
    s, y = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([2.0, 1.0, 0.0])
    for call in (lambda a, b: fastrank.pairwise_hinge(a, b, 1e307),
                 lambda a, b: fastrank.lambdarank(a, b, pair_loss="hinge", margin=1e307)):
        with pytest.raises(ValueError, match="exceeds the largest torch.float32"):
            call(s, y)
        assert math.isfinite(float(call(s.double(), y.double())))  # float64 holds it


# --- values near the float range, and saved predictors that lie (the adversarial round) ----------
def _nb201_sample(n=30):
    import numpy as np

    from fastrank import benchmarks

    table = benchmarks.load("nb201/cifar10")
    return table.archs[:n], np.asarray(table.values[:n], dtype=np.float64)


def test_huge_finite_targets_and_weak_labels_do_not_overflow():
    import numpy as np

    archs, y = _nb201_sample()
    small = fastrank.Predictor("nb201", seed=0, epochs=5).fit(archs, y, loss="MSE").predict(archs)
    huge = fastrank.Predictor("nb201", seed=0, epochs=5).fit(archs, y * 1e300, loss="MSE").predict(archs)
    assert np.all(np.isfinite(huge))
    np.testing.assert_allclose(huge / 1e300, small, rtol=1e-6)
    weak = fastrank.Predictor("nb201", seed=0, epochs=5).pretrain(archs, {"w": y * 1e200}, epochs=2)
    assert np.all(np.isfinite(weak.predict_weak(archs)["w"]))


@pytest.mark.parametrize("change,message", [
    (lambda c: c.update(target_std=float("nan")), "target_std must be a positive finite number"),
    (lambda c: c.update(target_std=-1.0), "target_std must be a positive finite number"),
    (lambda c: c.update(width=c["width"] * 2), "damaged or mismatched"),
    (lambda c: c.update(layers=c["layers"] + 1), "damaged or mismatched"),
    (lambda c: c.update(space="darts"), "damaged or mismatched"),
    (lambda c: c.update(encoder="gin"), "damaged or mismatched"),
    (lambda c: c.pop("width"), "missing 'width'"),
])
def test_a_saved_predictor_that_lies_is_refused(tmp_path, change, message):
    import json

    import torch

    from fastrank.predictor import persistence

    archs, y = _nb201_sample()
    path = tmp_path / "p.pt"
    fastrank.Predictor("nb201", seed=0, epochs=2, width=16, layers=2).fit(archs, y, loss="MSE").save(path)
    state = torch.load(path, weights_only=True)
    config = json.loads(state["config"])
    change(config)
    state["config"] = json.dumps(config)
    state["checksum"] = persistence._checksum(state)  # a crafted file: its checksum agrees, its content lies
    torch.save(state, path)
    with pytest.raises(ValueError, match=message):
        fastrank.Predictor.load(path)


@pytest.mark.parametrize("config", ["[1, 2]", "null", '"text"'])
def test_a_saved_predictor_with_a_config_that_is_not_an_object_is_refused(tmp_path, config):
    import torch

    path = tmp_path / "p.pt"
    torch.save({"config": config}, path)
    with pytest.raises(ValueError, match="not a saved fastrank Predictor"):
        fastrank.Predictor.load(path)

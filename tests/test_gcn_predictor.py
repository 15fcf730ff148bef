"""GCNPredictor.train_step (native forward and backward) against the same step in torch
autograd, and FusedAdam against torch.optim.Adam."""
from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
from fastrank.graph import GCNPredictor, encode_codes
from fastrank.optim import FusedAdam
from fastrank.spaces import get_space

mse = torch.nn.functional.mse_loss


def random_batch(batch, nodes, n_ops, dtype=torch.float64, seed=0, padded=True):
    """Random DAGs; with padding, a random number of trailing nodes per graph is invalid
    (mask False, no edges), as NB101 cells with fewer than 7 nodes are encoded."""
    gen = torch.Generator().manual_seed(seed)
    adj = (torch.rand(batch, nodes, nodes, generator=gen) < 0.4).to(dtype).triu(1)
    ops = torch.randint(0, n_ops, (batch, nodes), generator=gen)
    mask = torch.ones(batch, nodes, dtype=torch.bool)
    if padded and nodes > 1:
        valid = torch.randint(1, nodes + 1, (batch,), generator=gen)
        mask = torch.arange(nodes)[None] < valid[:, None]
        adj = adj * (mask[:, :, None] & mask[:, None, :]).to(dtype)
    targets = torch.rand(batch, generator=gen, dtype=dtype)
    return adj, ops, mask, targets


def torch_step(model, optimizer, loss_fn, adj, ops, mask, y):
    optimizer.zero_grad()
    loss = loss_fn(model(adj, ops, mask), y)
    loss.backward()
    optimizer.step()
    return loss.detach()


def assert_same_model(a, b, rtol, atol):
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=rtol, atol=atol, msg=lambda m: f"{name}: {m}")
        if pb.grad is None:
            assert pa.grad is None, name
        else:
            torch.testing.assert_close(pa.grad, pb.grad, rtol=rtol, atol=atol, msg=lambda m: f"{name}.grad: {m}")


CONFIGS = [  # (n_ops, width, layers, hidden, pooling, nodes, batch)
    (5, 64, 4, None, "mean", 8, 32),
    (3, 8, 1, 5, "sum", 7, 9),
    (7, 13, 2, 64, "mean", 7, 16),
    (4, 32, 3, 32, "sum", 12, 20),
    (6, 128, 2, 17, "mean", 5, 3),
    (2, 4, 2, 3, "mean", 1, 1),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c)))
def test_train_step_equals_torch_step_float64(config):
    n_ops, width, layers, hidden, pooling, nodes, batch = config
    torch.manual_seed(0)
    ours = GCNPredictor(n_ops, width, layers, hidden, pooling).double()
    theirs = copy.deepcopy(ours)
    opt_ours = FusedAdam(ours.parameters(), lr=1e-2, weight_decay=1e-3)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-2, weight_decay=1e-3)
    for step in range(4):
        adj, ops, mask, y = random_batch(batch, nodes, n_ops, seed=step)
        a = ours.train_step(adj, ops, mask, y, opt_ours, mse)
        b = torch_step(theirs, opt_theirs, mse, adj, ops, mask, y)
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        assert_same_model(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("outputs", [2, 3, 7])
def test_multi_output_head_train_step_equals_torch_step(outputs):
    """One head per weak label (pretraining): scores (batch, outputs), a masked loss."""
    torch.manual_seed(outputs)
    ours = GCNPredictor(5, 16, 3, 12, "mean", outputs=outputs).double()
    assert ours._native_params() is not None  # the native step, not the torch fallback
    theirs = copy.deepcopy(ours)
    opt_ours = FusedAdam(ours.parameters(), lr=1e-2)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-2)

    def masked_mse(scores, targets):
        known = ~torch.isnan(targets)
        return ((scores - targets.nan_to_num()) ** 2 * known).sum() / known.sum()

    for step in range(3):
        adj, ops, mask, _ = random_batch(10, 7, 5, seed=step)
        y = torch.randn(10, outputs, dtype=torch.float64)
        y[torch.rand(10, outputs) < 0.3] = float("nan")
        a = ours.train_step(adj, ops, mask, y, opt_ours, masked_mse)
        b = torch_step(theirs, opt_theirs, masked_mse, adj, ops, mask, y)
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        assert_same_model(ours, theirs, rtol=1e-10, atol=1e-12)
    assert ours(adj, ops, mask).shape == (10, outputs)
    with pytest.raises(ValueError, match="outputs"):
        GCNPredictor(5, outputs=0)


def test_train_step_float32_on_nb201():
    space = get_space("nb201")
    torch.manual_seed(1)
    ours = GCNPredictor(len(space.node_ops))
    theirs = copy.deepcopy(ours)
    opt_ours, opt_theirs = FusedAdam(ours.parameters()), torch.optim.Adam(theirs.parameters())
    gen = torch.Generator().manual_seed(2)
    for _ in range(5):
        adj, ops, mask = encode_codes(space, torch.randint(0, space.size, (32,), generator=gen))
        y = torch.rand(32, generator=gen)
        a = ours.train_step(adj, ops, mask, y, opt_ours, mse)
        b = torch_step(theirs, opt_theirs, mse, adj, ops, mask, y)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert_same_model(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", ["HR", "ListMLE", "MSE"])
def test_named_losses_and_any_optimizer(loss):
    torch.manual_seed(3)
    ours = GCNPredictor(4, 16, 2).double()
    theirs = copy.deepcopy(ours)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    loss_fn = fastrank.nn.make_loss(loss)
    for step in range(3):
        adj, ops, mask, y = random_batch(12, 6, 4, seed=10 + step)
        a = ours.train_step(adj, ops, mask, y, opt_ours, loss)
        b = torch_step(theirs, opt_theirs, loss_fn, adj, ops, mask, y)
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert_same_model(ours, theirs, rtol=1e-10, atol=1e-12)


def test_gradients_do_not_depend_on_the_thread_count():
    adj, ops, mask, y = random_batch(200, 8, 5, dtype=torch.float32, seed=4)
    grads = []
    for threads in (1, 2, 3):
        fastrank.set_num_threads(threads)
        try:
            torch.manual_seed(0)
            model = GCNPredictor(5, 32, 3)
            model.train_step(adj, ops, mask, y, torch.optim.SGD(model.parameters(), lr=0.0), mse)
            grads.append([p.grad.clone() for p in model.parameters()])
        finally:
            fastrank.set_num_threads(0)
    for other in grads[1:]:
        for g0, g1 in zip(grads[0], other):
            assert torch.equal(g0, g1)


def test_frozen_parameters_and_foreign_optimizer_params():
    torch.manual_seed(5)
    ours = GCNPredictor(4, 8, 2).double()
    theirs = copy.deepcopy(ours)
    for model in (ours, theirs):
        model.encoder.linears[0].weight.requires_grad_(False)
    extra_ours = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    extra_theirs = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    extra_ours.grad = torch.ones(3, dtype=torch.float64)  # stale: zero_grad clears it
    extra_theirs.grad = torch.ones(3, dtype=torch.float64)
    ours.encoder.linears[0].weight.grad = torch.ones(8, 8, dtype=torch.float64)  # stale too
    opt_ours = torch.optim.Adam([*ours.parameters(), extra_ours], lr=1e-2)
    opt_theirs = torch.optim.Adam([*theirs.parameters(), extra_theirs], lr=1e-2)
    adj, ops, mask, y = random_batch(10, 6, 4, seed=6)
    ours.train_step(adj, ops, mask, y, opt_ours, mse)
    torch_step(theirs, opt_theirs, mse, adj, ops, mask, y)
    assert_same_model(ours, theirs, rtol=1e-10, atol=1e-12)
    assert ours.encoder.linears[0].weight.grad is None
    assert extra_ours.grad is None
    assert torch.equal(extra_ours, extra_theirs)


def test_replaced_head_falls_back_to_the_torch_step():
    torch.manual_seed(7)
    ours = GCNPredictor(4, 8, 2).double()
    ours.head = torch.nn.Sequential(torch.nn.Linear(8, 1)).double()
    theirs = copy.deepcopy(ours)
    opt_ours, opt_theirs = FusedAdam(ours.parameters()), torch.optim.Adam(theirs.parameters())
    adj, ops, mask, y = random_batch(10, 6, 4, seed=8)
    ours.train_step(adj, ops, mask, y, opt_ours, mse)
    torch_step(theirs, opt_theirs, mse, adj, ops, mask, y)
    assert_same_model(ours, theirs, rtol=1e-12, atol=1e-12)


def test_training_learns_nb201():
    """The native step trains a predictor on real NB201 accuracies (held-out Kendall τ)."""
    bench = fastrank.benchmarks.load("nb201/cifar10")
    space = bench.space
    gen = torch.Generator().manual_seed(0)
    rows = torch.randperm(len(bench), generator=gen)[:1200]
    codes = torch.as_tensor(bench.codes()[rows.numpy()])
    y = torch.as_tensor(bench.values[rows.numpy()], dtype=torch.float32)
    y = (y - y.mean()) / y.std()
    adj, ops, mask = encode_codes(space, codes)
    torch.manual_seed(0)
    model = GCNPredictor(len(space.node_ops), 32, 3)
    opt = FusedAdam(model.parameters(), lr=3e-3)
    for _ in range(300):
        idx = torch.randint(0, 1000, (32,), generator=gen)
        model.train_step(adj[idx], ops[idx], mask[idx], y[idx], opt, mse)
    with torch.no_grad():
        tau = fastrank.metrics.kendall_tau(model(adj[1000:], ops[1000:], mask[1000:]), y[1000:])
    assert tau > 0.5, tau


# --- errors -------------------------------------------------------------------------


def test_non_finite_loss_leaves_the_model_untouched():
    model = GCNPredictor(4, 8, 2)
    before = copy.deepcopy(model.state_dict())
    opt = FusedAdam(model.parameters())
    adj, ops, mask, y = random_batch(6, 5, 4, dtype=torch.float32)
    y[2] = float("nan")
    with pytest.raises(ValueError, match="not finite"):
        model.train_step(adj, ops, mask, y, opt, mse)
    with pytest.raises(ValueError, match="not finite"):  # finite loss, infinite gradient
        model.train_step(adj, ops, mask, torch.zeros(6), opt, lambda s, t: (s * 0).sum() + torch.sqrt(s * 0).sum())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert len(opt.state) == 0


def test_bad_inputs():
    model = GCNPredictor(4, 8, 2)
    opt = FusedAdam(model.parameters())
    adj, ops, mask, y = random_batch(6, 5, 4, dtype=torch.float32)
    with pytest.raises(ValueError, match="op ids"):
        model.train_step(adj, ops + 4, mask, y, opt, mse)
    with pytest.raises(ValueError, match="non-negative"):
        model.train_step(-adj - 1, ops, mask, y, opt, mse)
    with pytest.raises(ValueError, match="expected adj"):
        model.train_step(adj[:, :4], ops, mask, y, opt, mse)
    with pytest.raises(TypeError, match="boolean"):
        model.train_step(adj, ops, mask.float(), y, opt, mse)
    with pytest.raises(TypeError, match="Optimizer"):
        model.train_step(adj, ops, mask, y, "adam", mse)
    with pytest.raises(ValueError, match="scalar"):
        model.train_step(adj, ops, mask, y, opt, lambda s, t: (s - t) ** 2)
    with pytest.raises(ValueError, match="unknown loss"):
        model.train_step(adj, ops, mask, y, opt, "nope")
    with pytest.raises(ValueError, match="hidden"):
        GCNPredictor(4, 8, 2, hidden=0)


# --- FusedAdam ----------------------------------------------------------------------


def make_params(dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(5, 7), (7,), (3, 3, 2), (1,), (0,)]
    return [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype)) for s in shapes]


def run_optimizer(opt_cls, params, steps, seed, **kw):
    opt = opt_cls([{"params": params[:2]}, {"params": params[2:], "lr": 3e-3}], **kw)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        for i, p in enumerate(params):
            p.grad = None if (step + i) % 4 == 3 else torch.randn(p.shape, generator=gen, dtype=p.dtype)
        opt.step()
    return opt


@given(amsgrad=st.booleans(), maximize=st.booleans(), weight_decay=st.sampled_from([0.0, 0.1]),
       decoupled=st.booleans(), lr=st.sampled_from([1e-3, 0.5]), beta1=st.sampled_from([0.0, 0.9]),
       seed=st.integers(0, 100))
def test_fused_adam_matches_torch_adam(amsgrad, maximize, weight_decay, decoupled, lr, beta1, seed):
    kw = dict(lr=lr, betas=(beta1, 0.99), eps=1e-6, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
              decoupled_weight_decay=decoupled)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        ours, theirs = make_params(dtype, seed), make_params(dtype, seed)
        opt_ours = run_optimizer(FusedAdam, ours, 6, seed, **kw)
        opt_theirs = run_optimizer(torch.optim.Adam, theirs, 6, seed, foreach=False, **kw)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=tol, atol=tol)
        for a, b in zip(ours, theirs):
            sa, sb = opt_ours.state[a], opt_theirs.state[b]
            assert sa.keys() == sb.keys()
            for key in sa:
                torch.testing.assert_close(sa[key], sb[key], rtol=tol, atol=tol)


def test_fused_adam_interoperates_with_torch_adam_and_schedulers():
    ours, theirs = make_params(torch.float64, 1), make_params(torch.float64, 1)
    opt_ours = run_optimizer(FusedAdam, ours, 3, 0)
    opt_theirs = run_optimizer(torch.optim.Adam, theirs, 3, 0)
    # continue ours with torch's Adam from our state, and theirs with FusedAdam from torch's
    switched_theirs = FusedAdam([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 3e-3}])
    switched_theirs.load_state_dict(opt_theirs.state_dict())
    switched_ours = torch.optim.Adam([{"params": ours[:2]}, {"params": ours[2:], "lr": 3e-3}])
    switched_ours.load_state_dict(opt_ours.state_dict())
    sched = [torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) for o in (switched_ours, switched_theirs)]
    gen = torch.Generator().manual_seed(9)
    for _ in range(3):
        for a, b in zip(ours, theirs):
            a.grad = torch.randn(a.shape, generator=gen, dtype=a.dtype)
            b.grad = a.grad.clone()
        switched_ours.step()
        switched_theirs.step()
        for s in sched:
            s.step()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_fused_adam_hands_unsupported_groups_to_torch():
    half = [torch.nn.Parameter(torch.randn(4, dtype=torch.bfloat16))]
    ref = [torch.nn.Parameter(half[0].detach().clone())]
    calls = []
    opt = FusedAdam(half, lr=0.1)
    opt.register_step_post_hook(lambda *a: calls.append(1))
    torch_opt = torch.optim.Adam(ref, lr=0.1)
    for _ in range(2):
        half[0].grad = torch.ones(4, dtype=torch.bfloat16)
        ref[0].grad = torch.ones(4, dtype=torch.bfloat16)
        opt.step()
        torch_opt.step()
    assert torch.equal(half[0], ref[0])
    assert calls == [1, 1]  # hooks ran once per step, also through torch's code
    loss_calls = []
    assert opt.step(lambda: loss_calls.append(1) or torch.tensor(0.0)) is not None
    assert loss_calls == [1]


def test_fused_adam_notices_replaced_tensors():
    """The cached update plan is rebuilt when a parameter's data, a gradient or a state
    tensor is replaced between steps (same objects otherwise)."""
    ours, theirs = make_params(torch.float64, 2), make_params(torch.float64, 2)
    opt_ours, opt_theirs = FusedAdam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    grads = [torch.randn(p.shape, dtype=p.dtype) for p in ours]

    def both_step():
        for a, b, g in zip(ours, theirs, grads):
            if a.grad is None or b.grad is None:
                a.grad, b.grad = g.clone(), g.clone()
            else:
                a.grad.copy_(g)
                b.grad.copy_(g)
        opt_ours.step()
        opt_theirs.step()
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)

    both_step()
    both_step()  # the plan is reused here
    for group in (ours, theirs):
        group[0].data = torch.full_like(group[0], 0.5)  # new storage, same Parameter object
    both_step()
    for opt, group in ((opt_ours, ours), (opt_theirs, theirs)):
        opt.state[group[1]]["exp_avg"] = torch.ones_like(group[1])
    both_step()
    ours[2].grad, theirs[2].grad = None, None  # a parameter without gradient is skipped
    grads[2] = None
    for opt in (opt_ours, opt_theirs):
        opt.step()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_fused_adam_survives_deepcopy_and_drops_stale_plans():
    params = make_params(torch.float64, 3)
    opt = run_optimizer(FusedAdam, params, 2, 0)
    clone = copy.deepcopy(opt)  # torch restores only defaults, state and param_groups
    for p in clone.param_groups[0]["params"]:
        p.grad = torch.ones_like(p)
    clone.step()
    opt.load_state_dict(opt.state_dict())  # new group dicts: the old plans must go
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    assert set(opt._plans) == {id(g) for g in opt.param_groups}

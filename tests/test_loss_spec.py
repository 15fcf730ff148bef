"""Losses written as text: names, weighted sums and the PW loss."""
import pytest
import torch

from fastrank.loss_spec import parse_loss, resolve_loss, seed_task
from fastrank.nn import PiecewiseLoss, RankingLoss, WeightedSum


def test_names_sums_and_piecewise():
    assert parse_loss("hr").name == "HR"
    total = parse_loss("sum:MSE=1,HR=0.5")
    assert isinstance(total, WeightedSum) and total.weights == [1.0, 0.5]
    pw = parse_loss("pw:HR,MAPE@50")
    assert isinstance(pw, PiecewiseLoss) and pw.switch_at == 50
    assert pw.warmup.name == "HR" and pw.focus.name == "MAPE"
    assert resolve_loss("pw:HR,MAPE@50", n_labelled=49).name == "HR"
    assert resolve_loss("pw:HR,MAPE@50", n_labelled=50).name == "MAPE"
    module = RankingLoss("WARP")
    assert parse_loss(module) is module


@pytest.mark.parametrize("task,pair", [("nb201/cifar10", ("HR", "MAPE")), ("nb101", ("ListMLE", "WARP")),
                                       ("nb301", ("HR", "MAPE")), ("tnb101_micro/jigsaw", ("MSE", "EW")),
                                       ("tnb101_micro/class_scene", ("HR", "WARP")),
                                       ("tnb101_macro/jigsaw", ("HR", "MAPE"))])
def test_pw_alone_is_the_seed_study_pair(task, pair):
    pw = parse_loss("pw", task=task, switch_at=30)
    assert (pw.warmup.name, pw.focus.name, pw.switch_at) == (*pair, 30)


@pytest.mark.parametrize("spec,budget,at", [("pw@70%", 20, 14), ("pw@0%", 50, 0), ("pw@100%", 50, 50),
                                            ("pw:HR,MAPE@25%", 100, 25), ("pw@33.3%", 100, 33), ("pw@12", None, 12)])
def test_a_switch_point_as_a_share_of_the_budget(spec, budget, at):
    assert parse_loss(spec, task="nb201/cifar10", switch_at=7, budget=budget).switch_at == at


@pytest.mark.parametrize("bad", ["pw@70%", "pw@101%", "pw@-5%", "pw@x%", "pw@nan%", "pw@inf%"])
def test_a_share_needs_a_budget_and_a_percentage(bad):
    with pytest.raises(ValueError, match="switch point"):
        parse_loss(bad, budget=None if bad == "pw@70%" else 50)


def test_seed_tasks():
    assert seed_task("nb201/imagenet16") == "nb201" and seed_task("nasbench_macro") is None


@pytest.mark.parametrize("name,key", [("nb301/x", "darts"), ("tnb101_micro/jigsaw", "tnb101_micro_jigsaw"),
                                      ("tnb101_macro/jigsaw", None), ("analognas/ptq_accuracy", None),
                                      ("nasbench_graph/cora", None), ("", None), ("other", None),
                                      # space names, as a Predictor passes them: the family declaring the pair
                                      ("nb201", "nb201"), ("darts", "darts"), ("tnb101_micro", "tnb101_micro"),
                                      ("nasbench_graph_proteins", None), ("nasbench_macro", None)])
def test_seed_tasks_of_benchmark_and_space_names(name, key):
    assert seed_task(name) == key


@pytest.mark.parametrize("bad", ["pw:HR", "pw:HR,MAPE@x", "pw:HR,MAPE@-1", "sum:MSE", "sum:MSE=x", "sum:MSE=inf",
                                 "nope", "pw:HR,NOPE@5"])
def test_bad_specs_are_refused(bad):
    with pytest.raises(ValueError):
        parse_loss(bad)


def test_every_spec_trains_a_scalar():
    s, y = torch.randn(12, requires_grad=True), torch.rand(12)
    for spec in ("MSE", "sum:MSE=1,HR=0.5", "pw:ListMLE,WARP@3"):
        value = resolve_loss(spec, n_labelled=12)(s, y)
        assert value.dim() == 0 and torch.isfinite(value)

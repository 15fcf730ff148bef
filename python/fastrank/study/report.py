"""What a person reads after a study: tables.md (loss × task, mean ± std), heatmaps of Kendall τ
and N@10, metrics against the training-set size, and the search grid's best found vs queries."""
from __future__ import annotations

from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..nn import FAMILIES, canonical_loss_name

TABLE_METRICS = ("kendall_tau", "n@10", "precision@1%", "ndcg@10", "spearman", "precision@0.5%", "precision@5%",
                 "regret@1", "regret@10")
LOWER_IS_BETTER = {"n@10", "regret@1", "regret@10", "regret", "rank"}
TITLES = {"kendall_tau": "Kendall τ", "n@10": "N@10 (best true rank among the predicted top 10; lower is better)",
          "precision@1%": "Precision@1%", "ndcg@10": "NDCG@10 (AceNAS relevance grades, exp2 gain)",
          "spearman": "Spearman ρ", "precision@0.5%": "Precision@0.5%", "precision@5%": "Precision@5%",
          "regret@1": "top-1 regret (best value minus the predicted best's; lower is better)",
          "regret@10": "top-10 regret (lower is better)"}


def family(loss: str) -> str:
    """The loss family of a spec: a registered name's, "piecewise" for pw specs, else "other"."""
    text = loss.strip().lower()
    if text == "pw" or text.startswith("pw:") or text.startswith("pw@"):
        return "piecewise"
    try:
        return FAMILIES[canonical_loss_name(loss.partition(":")[0])]
    except (ValueError, KeyError, TypeError):
        return "other"


def collect(rows: Sequence[dict]) -> Dict[Tuple[str, str, str, int, str], List[float]]:
    """(kind, task, loss, size, metric) -> values over seeds, in first-seen order."""
    out: Dict[Tuple[str, str, str, int, str], List[float]] = OrderedDict()
    for r in rows:
        out.setdefault((r["kind"], r["task"], r["loss"], r["size"], r["metric"]), []).append(r["value"])
    return out


def _ordered(rows, kind, field):
    return list(dict.fromkeys(r[field] for r in rows if r["kind"] == kind))


def _fmt(values: List[float], metric: str) -> str:
    digits = 1 if metric in ("n@10", "rank") else 3
    mean = f"{np.mean(values):.{digits}f}"
    return mean + (f" ± {np.std(values):.{digits}f}" if len(values) > 1 else "")


def mean_ranks(data, kind: str, tasks, losses, size: int, metric: str) -> Dict[str, float]:
    """Each loss's rank among the losses (1 = best; ties share their mean position) per task,
    averaged over the tasks."""
    ranks = defaultdict(list)
    for task in tasks:
        means = {loss: np.mean(data[(kind, task, loss, size, metric)]) for loss in losses
                 if (kind, task, loss, size, metric) in data}
        if len(means) < 2:
            continue
        sign = 1 if metric in LOWER_IS_BETTER else -1
        keyed = {loss: sign * value for loss, value in means.items()}
        for loss, value in keyed.items():  # ties share the mean of their positions
            below = sum(v < value for v in keyed.values())
            tied = sum(v == value for v in keyed.values())
            ranks[loss].append(below + (tied + 1) / 2)
    return {loss: float(np.mean(v)) for loss, v in ranks.items()}


def tables_markdown(rows: Sequence[dict]) -> str:
    data = collect(rows)
    lines = []
    tasks, losses = _ordered(rows, "rank", "task"), _ordered(rows, "rank", "loss")
    sizes = sorted(set(r["size"] for r in rows if r["kind"] == "rank"))
    seeds = len(set(r["seed"] for r in rows if r["kind"] == "rank"))
    if tasks:
        lines += [f"## Ranking: train on `size` random architectures, score the whole table ({seeds} seed(s))", ""]
        lines += ["### Mean rank of each loss across tasks (1 = best)", "",
                  "| metric | size | " + " | ".join(losses) + " |", "|---|---:|" + "---:|" * len(losses)]
        for metric in ("kendall_tau", "n@10", "precision@1%", "ndcg@10"):
            for size in sizes:
                ranks = mean_ranks(data, "rank", tasks, losses, size, metric)
                lines.append(f"| {metric} | {size} | " + " | ".join(
                    f"{ranks[loss]:.1f}" if loss in ranks else "-" for loss in losses) + " |")
        lines += ["", "### By family (mean rank of the family's losses)", "",
                  "| metric | size | " + " | ".join(sorted({family(loss) for loss in losses})) + " |",
                  "|---|---:|" + "---:|" * len({family(loss) for loss in losses})]
        for metric in ("kendall_tau", "n@10", "precision@1%", "ndcg@10"):
            for size in sizes:
                ranks = mean_ranks(data, "rank", tasks, losses, size, metric)
                fams = defaultdict(list)
                for loss, rank in ranks.items():
                    fams[family(loss)].append(rank)
                lines.append(f"| {metric} | {size} | " + " | ".join(
                    f"{np.mean(fams[f]):.1f}" if f in fams else "-" for f in sorted({family(x) for x in losses}))
                             + " |")
        lines.append("")
        for metric in TABLE_METRICS:
            for size in sizes:
                lines += [f"### {TITLES[metric]}, size {size}", "",
                          "| loss | " + " | ".join(tasks) + " |", "|---|" + "---:|" * len(tasks)]
                for loss in losses:
                    lines.append(f"| {loss} | " + " | ".join(
                        _fmt(data[("rank", t, loss, size, metric)], metric) if ("rank", t, loss, size, metric) in data
                        else "-" for t in tasks) + " |")
                lines.append("")
    s_tasks, s_losses = _ordered(rows, "search", "task"), _ordered(rows, "search", "loss")
    if s_tasks:
        budget = max(r["size"] for r in rows if r["kind"] == "search")
        s_seeds = len(set(r["seed"] for r in rows if r["kind"] == "search"))
        lines += [f"## Search: predictor-guided search per loss, {budget} queries, protocol test ({s_seeds} seed(s))",
                  "", "Regret of the best architecture found (the table's best value minus its value; lower is "
                  "better), mean ± std:", "", "| loss | mean rank | " + " | ".join(s_tasks) + " |",
                  "|---|---:|" + "---:|" * len(s_tasks)]
        ranks = mean_ranks(data, "search", s_tasks, s_losses, budget, "regret")
        for loss in s_losses:
            lines.append(f"| {loss} | {ranks.get(loss, float('nan')):.1f} | " + " | ".join(
                _fmt(data[("search", t, loss, budget, "regret")], "regret")
                if ("search", t, loss, budget, "regret") in data else "-" for t in s_tasks) + " |")
        lines.append("")
    return "\n".join(lines)


def _heatmap(data, tasks, losses, sizes, metric, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = sorted({sizes[0], sizes[-1]})
    fig, axes = plt.subplots(1, len(chosen), figsize=(0.9 * len(tasks) * len(chosen) + 3, 0.45 * len(losses) + 3),
                             squeeze=False)
    for ax, size in zip(axes[0], chosen):
        grid = np.array([[np.mean(data[("rank", t, loss, size, metric)]) if ("rank", t, loss, size, metric) in data
                          else np.nan for t in tasks] for loss in losses])
        shown = np.log10(grid) if metric == "n@10" else grid
        image = ax.imshow(shown, aspect="auto", cmap="viridis_r" if metric in LOWER_IS_BETTER else "viridis")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.0f}" if metric == "n@10" else f"{grid[i, j]:.2f}", ha="center",
                            va="center", fontsize=6, color="w")
        ax.set_xticks(range(len(tasks)), [t.replace("tnb101_", "").replace("/", "\n") for t in tasks], fontsize=6)
        ax.set_yticks(range(len(losses)), losses, fontsize=8)
        ax.set_title(f"{metric}, {size} labelled" + (" (colour: log10)" if metric == "n@10" else ""))
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _versus_size(data, tasks, losses, sizes, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("kendall_tau", "precision@1%", "ndcg@10", "n@10")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for loss in losses:
            means = []
            for size in sizes:
                per_task = [np.mean(data[("rank", t, loss, size, metric)]) for t in tasks
                            if ("rank", t, loss, size, metric) in data]
                means.append((np.median if metric == "n@10" else np.mean)(per_task) if per_task else np.nan)
            ax.plot(sizes, means, marker="o", label=loss)
        ax.set_xscale("log")
        if metric == "n@10":
            ax.set_yscale("log")
        ax.set_xlabel("labelled architectures")
        ax.set_title(("median over tasks of " if metric == "n@10" else "mean over tasks of ") + metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _search_curves(data, rows, tasks, losses, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budget = max(r["size"] for r in rows if r["kind"] == "search")
    points = sorted({int(r["metric"][5:]) for r in rows if r["kind"] == "search" and r["metric"].startswith("best@")})
    cols = min(4, len(tasks))
    rows_n = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.3 * rows_n), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        for loss in losses:
            y = [np.mean(data.get(("search", task, loss, budget, f"best@{q}"), [np.nan])) for q in points]
            ax.plot(points, y, label=loss)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("queries")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=6)
    axes[0][0].set_ylabel("best value found (mean over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(rows: Sequence[dict], out: Path) -> tuple:
    """tables.md and the PNG figures from cells.csv's rows; returns the paths written."""
    out = Path(out)
    data = collect(rows)
    written = [out / "tables.md"]
    (out / "tables.md").write_text("# Loss study\n\nGenerated by `fastrank study` from cells.csv.\n\n"
                                   + tables_markdown(rows) + "\n")
    tasks, losses = _ordered(rows, "rank", "task"), _ordered(rows, "rank", "loss")
    sizes = sorted(set(r["size"] for r in rows if r["kind"] == "rank"))
    if tasks:
        for metric, name in (("kendall_tau", "heatmap_kendall_tau.png"), ("n@10", "heatmap_n10.png")):
            _heatmap(data, tasks, losses, sizes, metric, out / name)
            written.append(out / name)
        if len(sizes) > 1:
            _versus_size(data, tasks, losses, sizes, out / "metrics_vs_size.png")
            written.append(out / "metrics_vs_size.png")
    s_tasks = _ordered(rows, "search", "task")
    if s_tasks:
        _search_curves(data, rows, s_tasks, _ordered(rows, "search", "loss"), out / "search_best_found.png")
        written.append(out / "search_best_found.png")
    return tuple(written)

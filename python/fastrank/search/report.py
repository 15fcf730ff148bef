"""Files a person reads after a search: runs.csv, trace.csv, best_so_far.png, and a summary."""
from __future__ import annotations

import csv
import math
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .result import RUN_COLUMNS, SearchResult

TRACE_FILE_COLUMNS = ("benchmark", "strategy", "loss", "protocol", "seed", "query", "arch", "value", "best_so_far",
                      "seconds", "error")


def _label(r: SearchResult) -> str:
    return r.strategy if r.strategy == "random" else f"{r.strategy} + {r.loss}"


def groups(results: Sequence[SearchResult]) -> Dict[Tuple[str, str], List[SearchResult]]:
    """Results by (benchmark, strategy + loss), in first-seen order."""
    out: Dict[Tuple[str, str], List[SearchResult]] = OrderedDict()
    for r in results:
        out.setdefault((r.benchmark, _label(r)), []).append(r)
    return out


def _write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_runs(results: Sequence[SearchResult], path: Path) -> None:
    _write_csv(path, RUN_COLUMNS, (r.row() for r in results))


def write_trace(results: Sequence[SearchResult], path: Path) -> None:
    _write_csv(path, TRACE_FILE_COLUMNS, (row for r in results for row in r.trace_rows()))


def curves(results: Sequence[SearchResult]) -> np.ndarray:
    """Best-so-far per run (rows) and query (columns); a run cut short keeps its last value."""
    length = max(len(r.queries) for r in results)
    out = np.empty((len(results), length))
    for i, r in enumerate(results):
        best = r.best_so_far()
        out[i, :best.shape[0]] = best
        out[i, best.shape[0]:] = best[-1]
    return out


def plot_best_so_far(results: Sequence[SearchResult], path: Path) -> None:
    """Mean ± std over seeds of the best query value so far, one panel per benchmark and one
    line per strategy × loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_bench: Dict[str, List] = OrderedDict()
    for (bench, label), rs in groups(results).items():
        by_bench.setdefault(bench, []).append((label, rs))
    fig, axes = plt.subplots(1, len(by_bench), figsize=(6 * len(by_bench), 4.2), squeeze=False)
    for ax, (bench, lines) in zip(axes[0], by_bench.items()):
        line_curves = [curves(rs) for _, rs in lines]
        for (label, rs), c in zip(lines, line_curves):
            x = np.arange(1, c.shape[1] + 1)
            mean, std = c.mean(0), c.std(0)
            ax.plot(x, mean, label=f"{label} ({len(rs)} seeds)")
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        # the y range starts near the 10th query, so the random start's spread does not flatten the rest
        low = min(np.percentile(c[:, min(9, c.shape[1] - 1)], 5) for c in line_curves)
        high = max(c.max() for c in line_curves)
        if math.isfinite(low) and high > low:
            ax.set_ylim(low, high + 0.05 * (high - low))
        protocol = lines[0][1][0].protocol
        ax.set_title(f"{bench} (queries see {protocol})")
        ax.set_xlabel("queries")
        ax.set_ylabel("best query value so far")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summary(results: Sequence[SearchResult]) -> str:
    """A plain-text table: per benchmark and strategy × loss, the mean ± std over seeds."""
    rows = [("benchmark", "strategy + loss", "seeds", "query value", "test value", "rank", "regret", "s/run")]
    for (bench, label), rs in groups(results).items():
        def stat(values, fmt="{:.2f}"):
            values = [v for v in values if v is not None]
            if not values:
                return "-"
            return (fmt.format(np.mean(values)) + (" ± " + fmt.format(np.std(values)) if len(values) > 1 else ""))
        rows.append((bench, label, str(len(rs)), stat([r.query_value for r in rs]), stat([r.test_value for r in rs]),
                     stat([r.rank for r in rs], "{:.1f}"), stat([r.regret for r in rs], "{:.3f}"),
                     stat([r.seconds for r in rs], "{:.1f}")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)

"""Plots of a bundle: one PNG per metric with a history, and one of the final values of the other
metrics by configuration.

Runs are grouped as in the results table (:func:`manifest.bundle.tables.configurations`): the
replicates of one configuration (runs that differ only in their seeds) are drawn as one mean line
with a shaded band of ± 1 sample standard deviation and one legend entry, ``n_estimators=10 (n=4)``;
a configuration with a single run is a plain line. In ``scalars.png`` each configuration is a point
at its mean with an error bar of ± 1 sample standard deviation when it has replicates, its
replicates' values as small dots beside it. Each configuration keeps its colour in every figure.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..core.names import safe_name
from ..core.reals import to_float
from .tables import Config, config_label, configurations

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The stem of the figure of final values, unless a metric's history plot has that name.
SCALARS = "scalars"
#: Most legend entries drawn; beyond, the legend would hide the plot.
MAX_LEGEND = 20
BAND = "shaded: mean ± 1 sample std over seeds"
ERROR_BARS = "error bars: mean ± 1 sample std over seeds; dots: each seed"


@dataclass(frozen=True)
class Curve:
    """One line of a history plot: a single run, or the mean of replicates with its spread
    (``sd`` None for a single run; NaN at steps only one replicate logged)."""

    label: str
    color: Any
    steps: list[float]
    mean: list[float]
    sd: list[float] | None = None


def _history(path: Path, metric: dict[str, Any]) -> tuple[list[int], list[float]] | None:
    if "history" in metric:
        h = metric["history"]
    elif "history_file" in metric:
        h = json.loads((path.parent / metric["history_file"]["path"]).read_text(encoding="utf-8"))
    else:
        return None
    vals = [to_float(v) for v in h["value"]]
    return list(h["step"]), vals


def _colors(k: int) -> list[Any]:
    """``k`` distinct colours: the qualitative tab10/tab20 palettes, a colormap beyond."""
    from matplotlib import colormaps  # lazy: ~0.4 s, and only bundles draw plots

    if k <= 20:
        return list(colormaps["tab10" if k <= 10 else "tab20"].colors[:k])
    return [colormaps["viridis"](i / (k - 1)) for i in range(k)]


def _pool(histories: list[tuple[list[int], list[float]]]) -> tuple[list[float], list[float], list[float]]:
    """Steps (the union of all runs'), mean and sample sd per step over the runs that logged it
    (a run's last value at a step counts); sd is NaN where fewer than two did."""
    by_step: dict[float, list[float]] = {}
    for steps, values in histories:
        for step, value in dict(zip(steps, values)).items():
            by_step.setdefault(step, []).append(value)
    steps = sorted(by_step)
    means = [statistics.fmean(by_step[s]) if all(map(math.isfinite, by_step[s])) else math.nan for s in steps]
    sds = [statistics.stdev(by_step[s]) if len(by_step[s]) > 1 and math.isfinite(m) else math.nan for s, m in zip(steps, means)]
    return steps, means, sds


def history_curves(manifests: list[tuple[Path, dict[str, Any]]], name: str) -> list[Curve]:
    """The curves of metric ``name``: one per configuration with a history of more than one step
    in at least one replicate; replicates pooled (:func:`_pool`)."""
    docs = [m for _, m in manifests]
    configs = configurations(docs)[2]
    curves = []
    for config, color in zip(configs, _colors(len(configs))):
        histories = []
        for i in config.replicates:
            metric = (docs[i].get("metrics") or {}).get(name)
            h = _history(manifests[i][0], metric) if metric else None
            if h and len(h[0]) > 1:
                histories.append(h)
        if len(histories) == 1:
            curves.append(Curve(config_label(config, docs, 1), color, *histories[0]))
        elif histories:
            curves.append(Curve(config_label(config, docs, len(histories)), color, *_pool(histories)))
    return curves


def history_figure(name: str, curves: list[Curve]) -> Figure:
    """The history plot of ``name``: a line per curve, a ± sd band for pooled ones, one legend
    entry per curve (so per configuration)."""
    fig, axes = _figure((6.4, 4.0))
    ax = axes[0][0]
    for c in curves:
        ax.plot(c.steps, c.mean, color=c.color, label=c.label, linewidth=1.2)
        if c.sd is not None:
            ax.fill_between(c.steps, [m - s for m, s in zip(c.mean, c.sd)], [m + s for m, s in zip(c.mean, c.sd)], color=c.color, alpha=0.2, linewidth=0)
    ax.set_xlabel("step")
    ax.set_ylabel(name)
    pooled = any(c.sd is not None for c in curves)
    ax.set_title(f"{name} by step ({len(curves)} configuration{'s' if len(curves) > 1 else ''})" + (f"\n{BAND}" if pooled else ""), fontsize="medium")
    if len(curves) <= MAX_LEGEND:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def _figure(size: tuple[float, float], nrows: int = 1, ncols: int = 1) -> tuple[Figure, Any]:
    """A figure drawn by Agg, without pyplot: no global state, no GUI backend, nothing to close;
    its axes as a 2-D array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazy: as in _colors
    from matplotlib.figure import Figure  # lazy: as above

    fig = Figure(figsize=size, dpi=120)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _finals(docs: list[dict[str, Any]], config: Config, name: str) -> list[float]:
    """The finite final values of ``name`` in the configuration's replicates (one per seed)."""
    values = [((docs[i].get("metrics") or {}).get(name) or {}).get("value") for i in config.replicates]
    return [x for x in (to_float(v) for v in values if v is not None) if math.isfinite(x)]


def scalar_figure(docs: list[dict[str, Any]], metrics: list[str]) -> Figure | None:
    """Final values of ``metrics`` by configuration, one panel per metric: mean with ± sd error
    bars where replicated, the single values as dots. None when no metric has two points to
    compare (two configurations, or replicates of one)."""
    configs = configurations(docs)[2]
    finals = {name: [_finals(docs, c, name) for c in configs] for name in metrics}
    shown = [name for name, per in finals.items() if sum(map(len, per)) > 1]
    if not shown:
        return None
    ncols = 1 if len(configs) > 8 else min(3, len(shown))  # many configurations: one wide panel a row
    nrows = -(-len(shown) // ncols)
    fig, axes = _figure((min(16.0, max(4.0, 0.6 * len(configs) + 2.0)) * ncols, 3.4 * nrows), nrows, ncols)
    grid = [a for row in axes for a in row]
    labels = [config_label(c, docs) for c in configs]
    colors = _colors(len(configs))
    for ax, name in zip(grid, shown):
        _scalar_panel(ax, name, finals[name], labels, colors)
    for ax in grid[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle(f"Final values by configuration\n{ERROR_BARS}", fontsize="medium")
    fig.tight_layout()
    return fig


def _scalar_panel(ax: Any, name: str, per_config: list[list[float]], labels: list[str], colors: list[Any]) -> None:
    """One metric's panel: a point per configuration, error bar when it has ≥ 2 values."""
    for x, (values, color) in enumerate(zip(per_config, colors)):
        if not values:
            continue
        sd = statistics.stdev(values) if len(values) > 1 else None
        ax.errorbar([x], [statistics.fmean(values)], yerr=None if sd is None else [sd], fmt="o", color=color, capsize=4)
        if sd is not None:
            ax.plot([x + 0.15] * len(values), values, ".", color=color, alpha=0.5, markersize=4)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize="small")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_title(name, fontsize="medium")
    ax.set_ylabel(f"{name} (mean ± std)")
    ax.grid(True, axis="y", alpha=0.3)


def _save(fig: Figure, out: Path, stem: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{stem}.png", metadata={"Software": None})  # no version: same plot, same bytes


def write_plots(out: Path, manifests: list[tuple[Path, dict[str, Any]]], metrics: Iterable[str]) -> list[str]:
    """One PNG per metric that has a history in at least one run, then ``scalars.png`` for the
    final values of the others (:func:`scalar_figure`). Returns the stems written in ``out``, in
    order (a metric's name, whose file is ``safe_name(name).png``; then ``scalars``, renamed
    ``scalars-1``... should a metric's plot have taken that name)."""
    metrics = list(metrics)
    done = []
    for name in metrics:
        curves = history_curves(manifests, name)
        if curves:
            _save(history_figure(name, curves), out, safe_name(name))
            done.append(name)
    fig = scalar_figure([m for _, m in manifests], [name for name in metrics if name not in done])
    if fig is not None:
        taken = {safe_name(name) for name in done}
        stem = next(s for s in (SCALARS, *(f"{SCALARS}-{i}" for i in range(1, len(taken) + 2))) if s not in taken)
        _save(fig, out, stem)
        done.append(stem)
    return done

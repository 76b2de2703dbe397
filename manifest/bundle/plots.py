"""Plots of a bundle: one PNG per metric with a history, runs overlaid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ..core.names import safe_name
from ..core.reals import to_float


def _history(path: Path, metric: dict[str, Any]) -> tuple[list[int], list[float]] | None:
    if "history" in metric:
        h = metric["history"]
    elif "history_file" in metric:
        h = json.loads((path.parent / metric["history_file"]["path"]).read_text(encoding="utf-8"))
    else:
        return None
    vals = [to_float(v) for v in h["value"]]
    return list(h["step"]), vals


def write_plots(out: Path, manifests: list[tuple[Path, dict[str, Any]]], metrics: Iterable[str]) -> list[str]:
    """One PNG per metric that has a history in at least one run; returns the metrics plotted."""
    import matplotlib  # lazy: ~0.4 s, and only bundles draw plots

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above, after the backend is chosen

    done = []
    for name in metrics:
        series = []
        for path, m in manifests:
            metric = (m.get("metrics") or {}).get(name)
            h = _history(path, metric) if metric else None
            if h and len(h[0]) > 1:
                series.append((m["name"], h))
        if not series:
            continue
        out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
        for label, (steps, vals) in series:
            ax.plot(steps, vals, label=label, linewidth=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.set_title(f"{name} by step ({len(series)} run{'s' if len(series) > 1 else ''})")
        if len(series) <= 12:
            ax.legend(fontsize="small")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / f"{safe_name(name)}.png", metadata={"Software": None})
        plt.close(fig)
        done.append(name)
    return done

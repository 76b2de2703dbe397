"""Fast unit tests of bundle plots: replicates pooled into one line with a band and one legend
entry, single runs as their own lines, and the figure of final values with error bars."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")

from manifest.bundle.plots import history_curves, history_figure, scalar_figure, write_plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def run(name: str, params: dict[str, Any], history: list[float] | None = None, **finals: float) -> dict[str, Any]:
    metrics: dict[str, Any] = {k: {"value": v} for k, v in finals.items()}
    if history is not None:
        metrics["loss"] = {"value": history[-1], "history": {"step": list(range(len(history))), "value": history}}
    return {"name": name, "params": params, "metrics": metrics}


def forest() -> list[tuple[Path, dict[str, Any]]]:
    """Four seeds of 10 trees, one run of 100 trees, and a reproduction of the latter."""
    docs = [
        run("rf-10", {"n_estimators": 10, "seed": 1}, [1.0, 0.5, 0.3], acc=0.9),
        run("rf-10", {"n_estimators": 10, "seed": 2}, [1.0, 0.7, 0.5], acc=1.0),
        run("rf-10", {"n_estimators": 10, "seed": 3}, [1.0, 0.6, 0.4], acc=0.95),
        run("rf-10", {"n_estimators": 10, "seed": 4}, [1.0, 0.6, 0.4], acc=0.97),
        run("rf-100", {"n_estimators": 100, "seed": 1}, [0.9, 0.4, 0.2], acc=0.966667),
        run("reproduce rf-100", {"n_estimators": 100, "seed": 1}, [5.0, 5.0, 5.0], acc=0.0),
    ]
    docs[-1]["provenance"] = {"derived_from": {"id": "urn:uuid:x", "relation": "reproduced"}}
    return [(Path(f"/nowhere/{i}.yaml"), m) for i, m in enumerate(docs)]


def legend(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_replicates_are_one_mean_line_with_a_band_and_one_legend_entry():
    curves = history_curves(forest(), "loss")
    assert [c.label for c in curves] == ["n_estimators=10 (n=4)", "n_estimators=100"]  # the reproduction is no curve
    pooled, single = curves
    # step 1: 0.5, 0.7, 0.6, 0.6: mean 0.6, sd √(0.02/3) = 0.081650; step 0: all 1.0, sd 0
    assert pooled.steps == [0, 1, 2] and pooled.mean == pytest.approx([1.0, 0.6, 0.4])
    assert pooled.sd == pytest.approx([0.0, 0.081650, 0.081650], abs=1e-6)
    assert (single.steps, single.mean, single.sd) == ([0, 1, 2], [0.9, 0.4, 0.2], None)
    assert pooled.color != single.color
    fig = history_figure("loss", curves)
    assert legend(fig) == ["n_estimators=10 (n=4)", "n_estimators=100"]
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 1  # two lines, one band
    assert "mean ± 1 sample std over seeds" in ax.get_title()


def test_replicates_logged_at_different_steps_pool_per_step():
    docs = [run("a", {"seed": 1}, [1.0, 0.5]), run("b", {"seed": 2}, [0.8, 0.3, 0.1])]
    [curve] = history_curves([(Path("/x/a.yaml"), docs[0]), (Path("/x/b.yaml"), docs[1])], "loss")
    assert curve.label == "a (n=2)" and curve.steps == [0, 1, 2]  # nothing differs but the seed: the first run names it
    assert curve.mean == pytest.approx([0.9, 0.4, 0.1])
    assert curve.sd[:2] == pytest.approx([0.141421, 0.141421], abs=1e-6) and math.isnan(curve.sd[2])  # one run at step 2: no band there


def test_single_runs_keep_their_own_entries():
    docs = [run("x", {"lr": 0.1}, [1.0, 0.5]), run("y", {"lr": 0.2}, [1.0, 0.4]), run("z", {"lr": 0.3}, [1.0])]  # z: one point, no line
    curves = history_curves([(Path(f"/x/{m['name']}.yaml"), m) for m in docs], "loss")
    fig = history_figure("loss", curves)
    assert legend(fig) == ["lr=0.1", "lr=0.2"] and len(fig.axes[0].collections) == 0
    assert len({tuple(c.color) for c in curves}) == 2


def test_history_from_a_sidecar_file(tmp_path: Path):
    (tmp_path / "a.loss.json").write_text(json.dumps({"step": [0, 1], "value": [1.0, "NaN"]}))
    m = {"name": "a", "params": {}, "metrics": {"loss": {"value": "NaN", "history_file": {"path": "a.loss.json"}}}}
    [curve] = history_curves([(tmp_path / "a.yaml", m)], "loss")
    assert curve.steps == [0, 1] and curve.mean[0] == 1.0 and math.isnan(curve.mean[1])


def test_scalar_figure_has_error_bars_for_replicates():
    docs = [m for _, m in forest()]
    fig = scalar_figure(docs, ["acc"])
    [ax] = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["n_estimators=10 (n=4)", "n_estimators=100"]
    bars, point = ax.containers  # one errorbar call per configuration
    # [0.9, 1.0, 0.95, 0.97]: mean 0.955, sd 0.042032 → bar from 0.912968 to 0.997032
    [[(x0, lo), (x1, hi)]] = bars.lines[2][0].get_segments()
    assert (x0, x1) == (0, 0) and (lo, hi) == (pytest.approx(0.912968, abs=1e-6), pytest.approx(0.997032, abs=1e-6))
    assert point.has_yerr is False and list(point.lines[0].get_ydata()) == [0.966667]
    assert "mean ± 1 sample std over seeds" in fig.texts[0].get_text() and "mean ± std" in ax.get_ylabel()


def test_scalar_figure_needs_two_points_to_compare():
    assert scalar_figure([run("solo", {"lr": 1}, acc=0.9)], ["acc"]) is None
    assert scalar_figure([run("a", {"lr": 1}, acc=0.9), run("b", {"lr": 2})], ["acc"]) is None  # b has no acc
    fig = scalar_figure([run("a", {"lr": 1}, acc=0.9, f1=0.8), run("b", {"lr": 2}, acc=0.8)], ["acc", "f1"])
    assert [ax.get_title() for ax in fig.axes] == ["acc"]  # f1: one point only


def test_write_plots_writes_histories_then_scalars(tmp_path: Path):
    out = tmp_path / "plots"
    assert write_plots(out, forest(), ["acc", "loss"]) == ["loss", "scalars"]
    assert sorted(p.name for p in out.iterdir()) == ["loss.png", "scalars.png"]
    assert all(p.read_bytes()[:8] == PNG for p in out.iterdir())


def test_write_plots_without_anything_to_draw(tmp_path: Path):
    assert write_plots(tmp_path / "plots", [(tmp_path / "a.yaml", run("a", {}, acc=1.0))], ["acc"]) == []
    assert not (tmp_path / "plots").exists()


def test_scalars_never_overwrites_a_metric_named_scalars(tmp_path: Path):
    docs = [run("a", {"lr": 1}, acc=0.9), run("b", {"lr": 2}, acc=0.8)]
    for m in docs:
        m["metrics"]["scalars"] = {"value": 1.0, "history": {"step": [0, 1], "value": [0.0, 1.0]}}
    assert write_plots(tmp_path, [(tmp_path / "x.yaml", m) for m in docs], ["scalars", "acc"]) == ["scalars", "scalars-1"]
    assert (tmp_path / "scalars.png").exists() and (tmp_path / "scalars-1.png").exists()

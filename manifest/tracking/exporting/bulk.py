"""A whole tracking store exported at once (``manifest export --all``): every experiment, every
run, every registered model with all its versions, and a list of what could not be exported.

The layout (spec/export-1.1.md, Section 2) keeps one folder per experiment under ``experiments/``
and one index at the top, so a store of thousands of runs is one directory an import can check
and resume.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mlflow.entities import ViewType

from ...core.names import safe_name
from ...core.problems import NotFound, Problem
from ..store import all_pages, mlflow_errors
from .files import export_runs, refuse_existing, run_file_stem
from .index import write_index
from .options import ExportOptions
from .registry import ModelSelection, all_versions

#: Where the experiments' folders go in a whole-store export directory.
EXPERIMENTS_DIR = "experiments"


@dataclass
class StoreExport:
    """What ``export --all`` did: counts per kind, and what it left out (with reasons)."""

    experiments: int = 0
    runs: int = 0
    registered_models: int = 0
    model_versions: int = 0
    not_exported: list[dict[str, Any]] = field(default_factory=list)
    index: Path | None = None
    written: list[str] = field(default_factory=list)


def experiment_dir(exp: Any) -> str:
    """``experiments/ID-NAME``: the id keeps folders apart when names differ only in what
    :func:`safe_name` replaces."""
    return f"{EXPERIMENTS_DIR}/{safe_name(str(exp.experiment_id))}-{safe_name(exp.name)[:80]}"


def _sorted_experiments(client: Any) -> list[Any]:
    exps = all_pages(client.search_experiments, view_type=ViewType.ALL, max_results=1000)
    return sorted(exps, key=lambda e: (0, int(e.experiment_id), "") if str(e.experiment_id).isdigit() else (1, 0, str(e.experiment_id)))


def _left_out(run: Any, allow_running: bool) -> str | None:
    if run.info.lifecycle_stage == "deleted":
        return "the run is deleted (in MLflow's trash); restore it and export again to include it"
    if run.info.status in ("RUNNING", "SCHEDULED") and not allow_running:
        return f"the run is still {run.info.status}; export again when it has ended, or pass --allow-running"
    return None


def export_store(client: Any, out_dir: Path, *, tracking_uri: str, fmt: str | None, options: ExportOptions, log: Callable[[str], None] = lambda s: None, force: bool = False) -> StoreExport:
    """Export everything the store holds into ``out_dir`` (models' and artifacts' files
    included: ``options`` should ask for both), then write the index. Every target file is
    checked before the first is written, so a refused export writes nothing."""
    report = StoreExport()
    ext = fmt or "yaml"
    jobs: list[tuple[Any, Path | None, str]] = []
    with mlflow_errors(tracking_uri, "(listing the store)"):
        experiments = _sorted_experiments(client)
        for exp in experiments:
            folder = out_dir / experiment_dir(exp)
            for run in all_pages(client.search_runs, [exp.experiment_id], "", run_view_type=ViewType.ALL, max_results=1000, order_by=["attributes.start_time ASC"]):
                why = _left_out(run, options.allow_running)
                if why:
                    report.not_exported.append({"kind": "run", "id": run.info.run_id, "name": run.info.run_name or run.info.run_id, "experiment_id": str(exp.experiment_id), "reason": why})
                    continue
                jobs.append((run, folder / f"{run_file_stem(run)}.{'json' if ext == 'json' else 'yaml'}", ext))
        models = [ModelSelection(rm.name, tuple(all_versions(client, rm.name)), complete=True) for rm in all_pages(client.search_registered_models, max_results=1000)]
    if not experiments:
        raise NotFound(Problem("no-runs", "the store holds no experiment"))
    refuse_existing([t for _, t, _ in jobs if t is not None], force)
    for _, target, _ in jobs:
        assert target is not None
        target.parent.mkdir(parents=True, exist_ok=True)
    indexed: list[tuple[Path, dict[str, Any]]] = []

    def index() -> None:
        with mlflow_errors(tracking_uri, "(writing the export index)"):
            report.index = write_index(client, indexed, out_dir, tracking_uri=tracking_uri, selection={"all": True}, models=models, experiments=experiments, not_exported=report.not_exported)

    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        report.written = export_runs(client, jobs, tracking_uri=tracking_uri, options=options, log=log, stdout=None, indexed=indexed)
    except BaseException as exc:
        done = {str(data["provenance"]["source"].get("run_id")) for _, data in indexed}
        why = f"the export stopped before it ({type(exc).__name__}{': ' + str(exc)[:200] if str(exc) else ''}); export again to include it"
        report.not_exported += [{"kind": "run", "id": run.info.run_id, "name": run.info.run_name or run.info.run_id, "experiment_id": str(run.info.experiment_id), "reason": why} for run, _, _ in jobs if run.info.run_id not in done]
        with contextlib.suppress(Exception):  # the runs written so far stay listed, the others named; the first error is the one to show
            index()
        raise
    report.not_exported += _unexported_models(client, experiments, {r.info.run_id for r, _, _ in jobs})
    index()
    report.experiments, report.runs = len(experiments), len(report.written)
    report.registered_models, report.model_versions = len(models), sum(len(m.versions) for m in models)
    return report


def _unexported_models(client: Any, experiments: list[Any], exported: set[str]) -> list[dict[str, Any]]:
    """Logged models (MLflow 3) that no exported run brings: made without a run, or the run's
    export left out. A store without the LoggedModels API (MLflow 2) has none to list."""
    out: list[dict[str, Any]] = []
    for exp in experiments:
        try:
            found = all_pages(client.search_logged_models, experiment_ids=[str(exp.experiment_id)], max_results=100)
        except Exception as exc:  # noqa: BLE001 - MLflow 2 servers answer 404: no logged models there
            if getattr(exc, "error_code", "") == "ENDPOINT_NOT_FOUND":
                return out
            raise
        for lm in found:
            if lm.source_run_id not in exported:
                why = "it belongs to no run" if not lm.source_run_id else f"its run {lm.source_run_id} is not exported"
                out.append({"kind": "logged_model", "id": lm.model_id, "name": lm.name, "experiment_id": str(exp.experiment_id), "reason": why})
    return out

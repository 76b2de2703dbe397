"""Finding the runs of an experiment to export."""

from __future__ import annotations

from typing import Any

from mlflow.entities import ViewType

from ...core.problems import NotFound, Problem
from ...core.uris import mask_uri
from ..store import mlflow_errors


def find_runs(client: Any, experiment: str, filter_string: str | None, tracking_uri: str) -> list[Any]:
    """The active runs of an experiment (by name, or id when no name matches), oldest first."""
    with mlflow_errors(tracking_uri, f"(experiment {experiment!r})"):
        exp = client.get_experiment_by_name(experiment)
        if exp is None and experiment.isascii() and experiment.isdigit():
            try:
                exp = client.get_experiment(experiment)
            except Exception:  # noqa: BLE001
                exp = None
        if exp is None:
            raise NotFound(Problem("experiment-not-found", f"experiment {experiment!r} was not found in {mask_uri(tracking_uri)}"))
        if exp.lifecycle_stage == "deleted":
            raise NotFound(Problem("experiment-deleted", f"experiment {experiment!r} is deleted"))
        runs: list[Any] = []
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], filter_string or "", run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, order_by=["attributes.start_time ASC"], page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                break
    if not runs:
        what = f" matching {filter_string!r}" if filter_string else ""
        raise NotFound(Problem("no-runs", f"experiment {experiment!r} has no runs{what}"))
    return runs

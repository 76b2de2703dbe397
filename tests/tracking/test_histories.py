"""Reading whole metric histories (`manifest.tracking.histories`): each way of reading gives what
MLflow's own ``get_metric_history`` gives, on every kind of store.

The direct-SQL fast path is tested on SQLite and PostgreSQL; a server is read over REST; a store
the fast paths do not know (a ``file:`` store) falls back to the public API.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from support.mlflow_env import tracking

from manifest.tracking.histories import fetch_histories
from manifest.tracking.store import client as manifest_client
from manifest.tracking.store import metric_tables_store, rest_store

pytestmark = pytest.mark.e2e

T = 1_700_000_000_000
KEYS = ["tie", "nan", "inf", "dup", "back", "long", "acc/val: top-1", "never-logged"]


@pytest.fixture(autouse=True)
def _no_leaked_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another test's store must not leak in through the environment."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)


def _points() -> list[Any]:
    """What makes a history hard to read back: ties on (step, timestamp) logged out of value
    order, NaN (stored as 0 with a flag) among them, infinities, duplicates, steps logged
    backwards, and more points than one page of some stores."""
    from mlflow.entities import Metric  # lazy: mlflow is imported by the tests that need it

    nan, inf = float("nan"), float("inf")
    pts = [Metric("tie", 1.0, T, 5), Metric("tie", 3.0, T, 5), Metric("tie", 2.0, T, 5), Metric("tie", nan, T, 5), Metric("tie", -1.0, T + 1, 4)]
    pts += [Metric("nan", 0.5, T, 1), Metric("nan", nan, T + 1, 2), Metric("nan", nan, T + 2, 2)]
    pts += [Metric("inf", inf, T, 0), Metric("inf", -inf, T + 1, 0), Metric("inf", 1.7976931348623157e308, T + 2, 0)]
    pts += [Metric("dup", 1.0, T, 0), Metric("dup", 1.0, T, 0), Metric("dup", 0.5, T, 1)]
    pts += [Metric("back", 9.0, T + 10, 3), Metric("back", 1.0, T, 7), Metric("back", 4.0, T + 5, 7)]
    pts += [Metric("long", i / 7, T + (i % 13), 2999 - i) for i in range(3000)]  # steps logged backwards, timestamps wrapping
    pts += [Metric("acc/val: top-1", 0.5, T, 0), Metric("acc/val: top-1", 0.75, T, 1)]
    return pts


def _public(client: Any, run_id: str, key: str) -> dict[str, list[Any]]:
    """MLflow's own answer, sorted by (step, timestamp) the way a manifest orders a history
    (``sorted`` is stable: ties keep the order MLflow gave)."""
    points = sorted(client.get_metric_history(run_id, key), key=lambda p: (p.step, p.timestamp))
    return {"step": [p.step for p in points], "timestamp": [p.timestamp for p in points], "value": [_same(p.value) for p in points]}


def _same(v: float) -> Any:
    return "NaN" if math.isnan(v) else v


@pytest.fixture(params=["sqlite", "postgres", "server", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(kind, tracking URI): the two SQL databases of the fast path, a server, a file store."""
    kind = request.param
    if kind == "server":
        return kind, request.getfixturevalue("mlflow_server").uri
    if kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses file stores without it
        return kind, (tmp_path / "mlruns").as_uri()
    return kind, request.getfixturevalue(f"{kind}_uri")


def test_every_way_of_reading_a_history_gives_what_get_metric_history_gives(store):
    import mlflow  # lazy: 1.5 s, for the tests that use MLflow

    kind, uri = store
    with tracking(uri):
        client = manifest_client(uri, check=False)
        mlflow_client = mlflow.MlflowClient(uri, registry_uri=None if kind == "file" else uri)
        run_id = mlflow_client.create_run(mlflow_client.create_experiment(f"histories-{kind}")).info.run_id
        mlflow_client.log_batch(run_id, metrics=_points())
        # the path this store takes: the SQL fast path only on the databases it knows
        assert (metric_tables_store(client) is not None) == (kind in ("sqlite", "postgres"))
        assert (rest_store(client) is not None) == (kind == "server")
        got = fetch_histories(client, run_id, KEYS, workers=2)
        for key in KEYS:
            want = _public(mlflow_client, run_id, key)
            assert {**got[key], "value": [_same(v) for v in got[key]["value"]]} == want, key
    assert len(got["long"]["step"]) == 3000 and got["never-logged"] == {"step": [], "timestamp": [], "value": []}
    # identical points: MLflow's SQL stores keep one, a file store keeps each
    assert got["dup"]["step"] == ([0, 0, 1] if kind == "file" else [0, 1])
    # ties on (step, timestamp): MLflow's SQL stores order them by stored value (NaN is stored as 0),
    # a file store keeps the order they were logged in
    ties = [-1.0, 1.0, 3.0, 2.0, "NaN"] if kind == "file" else [-1.0, "NaN", 1.0, 2.0, 3.0]
    assert [_same(v) for v in got["tie"]["value"]] == ties

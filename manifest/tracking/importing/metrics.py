"""Writing a new run's metric points: exactly what ``log_batch`` would store, much faster."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlflow.entities import Metric
from mlflow.utils.rest_utils import http_request, verify_rest_response
from mlflow.utils.validation import _validate_metric

from ...core.reals import json_real, to_float
from ..store import FRESH_CONNECTION, InFlight, metric_tables_store, rest_store
from .options import MAX_METRICS, ImportOptions, chunks
from .prepare import Prepared


def _metric_entities(name: str, metric: dict[str, Any], cols: dict[str, list[Any]] | None) -> list[Any]:
    if cols:
        return [Metric(name, to_float(v), int(t), int(s)) for s, t, v in zip(cols["step"], cols["timestamp"], cols["value"])]
    return [Metric(name, to_float(metric["value"]), int(metric.get("timestamp", 0)) or int(time.time() * 1000), int(metric.get("step", 0)))]


def log_metrics(client: Any, run_id: str, prep: Prepared, options: ImportOptions, model_ids: dict[int, str]) -> None:
    """Every point of every metric, model-linked points linked; one transaction on SQL stores,
    ``options.workers`` batches in flight on servers."""
    entities: list[Any] = []
    for name, metric in (prep.data.get("metrics") or {}).items():
        entities.extend(_metric_entities(name, metric, prep.histories.get(name)))
    _link_model_metrics(entities, prep, model_ids, run_id)
    bulk = metric_tables_store(client)
    if bulk is not None:
        linked_keys = {e.key for e in entities if getattr(e, "model_id", None)}
        _bulk_insert_metrics(bulk, run_id, [e for e in entities if e.key not in linked_keys])
        entities = [e for e in entities if e.key in linked_keys]
    _send_batches(client, run_id, chunks(entities, MAX_METRICS), options.workers, lambda s: options.log(f"warning: {s}"))


def _link_model_metrics(entities: list[Any], prep: Prepared, model_ids: dict[int, str], run_id: str) -> None:
    """A model metric is, in MLflow, a run metric point linked to the model (and a dataset): link
    the matching run point rather than logging a second point."""
    at = {(m.key, m.step, m.timestamp): i for i, m in enumerate(entities)}
    linked: set[int] = set()
    for i, model in enumerate(prep.data.get("models") or []):
        if i not in model_ids:
            continue
        for x in model.get("metrics") or []:
            ds = x.get("dataset") or {}
            link = {"model_id": model_ids[i], "dataset_name": ds.get("name"), "dataset_digest": ds.get("fingerprint"), "run_id": run_id}
            key = (x["name"], int(x.get("step", 0)), int(x.get("timestamp", 0)))
            j = at.get(key)
            if j is not None and j not in linked:
                e = entities[j]
                entities[j] = Metric(e.key, e.value, e.timestamp, e.step, **link)
                linked.add(j)
            else:
                entities.append(Metric(x["name"], to_float(x["value"]), key[2], key[1], **link))


def _send_batches(client: Any, run_id: str, batches: list[list[Any]], workers: int, log: Any = lambda s: None) -> None:
    """``log-batch`` requests: up to ``workers`` in flight against a server (fewer, and sent again,
    when it times out: :class:`~manifest.tracking.store.InFlight`), in turn otherwise."""
    if not batches:
        return
    rest = rest_store(client)
    workers = 1 if rest is None else max(1, workers)
    flight = InFlight(workers, log=log)

    def send(batch: list[Any]) -> None:
        if rest is not None and not any(getattr(e, "model_id", None) for e in batch):
            flight.call(_post_metrics, rest, run_id, batch)
        else:
            flight.call(lambda: client.log_batch(run_id, metrics=batch, synchronous=True))

    if workers == 1:
        for b in batches:
            send(b)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(send, b) for b in batches]
        try:
            for f in futures:
                f.result()
        except BaseException:
            for f in futures:  # a failed batch ends the import: do not send (and retry) the rest
                f.cancel()
            raise


def _post_metrics(store: Any, run_id: str, batch: list[Any]) -> None:
    """One ``runs/log-batch`` request built straight from the points, with the store's own
    credentials, TLS settings and retries. The server stores exactly what
    ``MlflowClient.log_batch`` would send (the protobuf JSON form: ``"NaN"``, ``"Infinity"``),
    without a protobuf message and two JSON round trips per batch on this side."""
    metrics = [{"key": e.key, "value": json_real(e.value), "timestamp": e.timestamp, "step": e.step} for e in batch]
    endpoint = "/api/2.0/mlflow/runs/log-batch"
    resp = http_request(store.get_host_creds(), endpoint, "POST", json={"run_id": run_id, "metrics": metrics}, extra_headers=FRESH_CONNECTION)
    verify_rest_response(resp, endpoint)


def _bulk_insert_metrics(store: Any, run_id: str, entities: list[Any]) -> None:
    """Write a new run's metric points in one transaction, as ``log_batch`` would have.

    Same stored values (NaN as 0 with ``is_nan``, infinities as +/-1.797e308), the same
    de-duplication of identical points, and the same "latest" value per key (greatest
    (step, timestamp, value), the first of equals), but one INSERT for all points instead of a
    session and commit per 1,000: on SQLite about ten times faster. The statements are
    SQLAlchemy constructs, so each database's dialect quotes what it reserves (MySQL's ``key``).
    """
    import sqlalchemy as sa  # lazy: only SQL stores get here (see store.metric_tables_store)

    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    latest: dict[str, dict[str, Any]] = {}
    checked: set[str] = set()
    for e in entities:
        if e.key not in checked:
            _validate_metric(e.key, e.value, e.timestamp, e.step)  # MLflow's own check, so the store refuses what log_batch would
            checked.add(e.key)
        is_nan, value = store.sanitize_metric_value(e.value)
        ident = (e.key, e.timestamp, e.step, value, is_nan)
        if ident in seen:
            continue
        seen.add(ident)
        row = {"key": e.key, "value": float(value), "timestamp": e.timestamp, "run_uuid": run_id, "step": e.step, "is_nan": is_nan}
        rows.append(row)
        cur = latest.get(e.key)
        if cur is None or (e.step, e.timestamp, value) > (cur["step"], cur["timestamp"], cur["value"]):
            latest[e.key] = row
    if not rows:
        return
    names = ("key", "value", "timestamp", "run_uuid", "step", "is_nan")
    metrics, latest_metrics = (sa.table(table, *(sa.column(c) for c in names)) for table in ("metrics", "latest_metrics"))
    with store.engine.begin() as conn:
        for chunk in chunks(rows, 50_000):
            conn.execute(sa.insert(metrics), chunk)
        conn.execute(sa.insert(latest_metrics), list(latest.values()))

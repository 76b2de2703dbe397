"""Writing a new run's metric points: exactly what ``log_batch`` would store, much faster."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from mlflow.entities import Metric
from mlflow.utils.rest_utils import http_request, verify_rest_response
from mlflow.utils.validation import _validate_metric

from ...core.reals import json_real, to_float
from ..store import InFlight, fresh_headers, metric_tables_store, rest_store
from .options import MAX_ENTITIES, MAX_METRICS, ImportOptions
from .prepare import Prepared


def _metric_entities(name: str, metric: dict[str, Any], cols: dict[str, list[Any]] | None, start: int = 0, stop: int | None = None) -> list[Any]:
    """The points ``start:stop`` of a metric as MLflow entities (its final value alone when it has no history)."""
    if cols:
        sl = slice(start, stop)
        return [Metric(name, to_float(v), int(t), int(s)) for s, t, v in zip(cols["step"][sl], cols["timestamp"][sl], cols["value"][sl])]
    return [Metric(name, to_float(metric["value"]), int(metric.get("timestamp", 0)) or int(time.time() * 1000), int(metric.get("step", 0)))] if start == 0 else []


def _points(cols: dict[str, list[Any]] | None) -> int:
    return len(cols["step"]) if cols else 1


def log_metrics(client: Any, run_id: str, prep: Prepared, options: ImportOptions, model_ids: dict[int, str], first: dict[str, list[Any]] | None = None) -> None:
    """Every point of every metric, model-linked points linked, one metric's history in memory
    at a time: one transaction on SQL stores, batches of at most 1,000 points with
    ``options.workers`` in flight on servers (the first batch also carries ``first``: params and
    tags, so a small run takes one request)."""
    links = _model_links(prep, model_ids, run_id)
    bulk = metric_tables_store(client)
    # On a SQL store the batches (params, tags, model-linked points) wait for the bulk transaction:
    # sent through another connection while it is open, SQLite would find the database locked.
    batches = _Batches(client, run_id, options.workers, lambda s: options.log(f"warning: {s}"), first, defer=bulk is not None, stop=options.check_stop)
    try:
        _write_points(prep, links, batches, _BulkWriter(bulk, run_id) if bulk is not None else None)
    except BaseException:
        batches.abandon()
        raise
    batches.close()


def _write_points(prep: Prepared, links: dict[str, list[Any]], batches: _Batches, bulk: _BulkWriter | None) -> None:
    with bulk if bulk is not None else contextlib.nullcontext() as writer:
        for name, metric in (prep.data.get("metrics") or {}).items():
            cols = prep.history(name)
            if name in links:
                batches.add(_linked(name, _metric_entities(name, metric, cols), links.pop(name)))
            elif writer is not None:
                writer.add(name, metric, cols)
            else:
                for start in range(0, _points(cols), MAX_METRICS):
                    batches.add(_metric_entities(name, metric, cols, start, start + MAX_METRICS))
            del cols
        for name, records in links.items():  # model metrics with no run metric of that name
            batches.add(_linked(name, [], records))


def _model_links(prep: Prepared, model_ids: dict[int, str], run_id: str) -> dict[str, list[tuple[tuple[int, int], dict[str, Any], Any]]]:
    """Metric name -> the model metrics recorded under it: ((step, timestamp), link, value)."""
    out: dict[str, list[tuple[tuple[int, int], dict[str, Any], Any]]] = {}
    for i, model in enumerate(prep.data.get("models") or []):
        if i not in model_ids:
            continue
        for x in model.get("metrics") or []:
            ds = x.get("dataset") or {}
            link = {"model_id": model_ids[i], "dataset_name": ds.get("name"), "dataset_digest": ds.get("fingerprint"), "run_id": run_id}
            out.setdefault(x["name"], []).append(((int(x.get("step", 0)), int(x.get("timestamp", 0))), link, x["value"]))
    return out


def _linked(name: str, entities: list[Any], records: list[tuple[tuple[int, int], dict[str, Any], Any]]) -> list[Any]:
    """A model metric is, in MLflow, a run metric point linked to the model (and a dataset): link
    the matching run point rather than logging a second point."""
    at = {(m.step, m.timestamp): i for i, m in enumerate(entities)}
    linked: set[int] = set()
    for (step, ts), link, value in records:
        j = at.get((step, ts))
        if j is not None and j not in linked:
            e = entities[j]
            entities[j] = Metric(e.key, e.value, e.timestamp, e.step, **link)
            linked.add(j)
        else:
            entities.append(Metric(name, to_float(value), ts, step, **link))
    return entities


class _Batches:
    """``log-batch`` requests of at most 1,000 points, filled across metrics in order: up to
    ``workers`` in flight against a server (fewer, and sent again, when it times out:
    :class:`~manifest.tracking.store.InFlight`), in turn otherwise; at most twice that many
    batches are built ahead, so the points waiting to be sent stay few."""

    def __init__(self, client: Any, run_id: str, workers: int, log: Any, first: dict[str, list[Any]] | None, *, defer: bool = False, stop: Callable[[], None] = lambda: None) -> None:
        self.client, self.run_id, self.stop = client, run_id, stop
        self.rest = rest_store(client)
        self.workers = 1 if self.rest is None else max(1, workers)
        self.flight = InFlight(self.workers, log=log)
        self.pool = ThreadPoolExecutor(max_workers=self.workers) if self.workers > 1 else None
        self.pending: deque[Future[None]] = deque()
        self.buf: list[Any] = []
        self.first = first if first and any(first.values()) else None
        #: batches held until :meth:`close` (``defer``), else ``None``
        self.held: list[tuple[list[Any], dict[str, list[Any]] | None]] | None = [] if defer else None

    def add(self, entities: list[Any]) -> None:
        self.buf.extend(entities)
        while len(self.buf) >= (room := self._room()):
            self._submit(self.buf[:room])
            del self.buf[:room]

    def _room(self) -> int:
        """Points the next batch takes: MLflow takes at most 1,000 entities a request, params and tags included."""
        return min(MAX_METRICS, MAX_ENTITIES - sum(map(len, self.first.values()))) if self.first else MAX_METRICS

    def abandon(self) -> None:
        """After a failure: nothing more is sent, and the batches in flight are waited for."""
        for f in self.pending:
            f.cancel()
        self.pending.clear()
        self.held = None
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        try:
            if self.buf or self.first:
                self._submit(self.buf)
            self.buf = []
            held, self.held = self.held or [], None
            for batch, extra in held:
                self._send(batch, extra)
            while self.pending:
                self.pending.popleft().result()
        finally:
            for f in self.pending:  # a failed batch ends the import: do not send (and retry) the rest
                f.cancel()
            if self.pool is not None:
                self.pool.shutdown(wait=True)

    def _submit(self, batch: list[Any]) -> None:
        self.stop()
        extra, self.first = self.first, None
        if self.held is not None:
            self.held.append((batch, extra))
            return
        if self.pool is None:
            self._send(batch, extra)
            return
        while len(self.pending) >= 2 * self.workers:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self._send, batch, extra))

    def _send(self, batch: list[Any], extra: dict[str, list[Any]] | None) -> None:
        params, tags = (extra or {}).get("params") or [], (extra or {}).get("tags") or []
        if self.rest is not None and not any(getattr(e, "model_id", None) for e in batch):
            self.flight.call(_post_metrics, self.rest, self.run_id, batch, params, tags)
        else:
            self.flight.call(lambda: self.client.log_batch(self.run_id, metrics=batch, params=params, tags=tags, synchronous=True))


def _post_metrics(store: Any, run_id: str, batch: list[Any], params: list[Any] = (), tags: list[Any] = ()) -> None:  # type: ignore[assignment]
    """One ``runs/log-batch`` request built straight from the points, with the store's own
    credentials, TLS settings and retries. The server stores exactly what
    ``MlflowClient.log_batch`` would send (the protobuf JSON form: ``"NaN"``, ``"Infinity"``),
    without a protobuf message and two JSON round trips per batch on this side."""
    metrics = [{"key": e.key, "value": json_real(e.value), "timestamp": e.timestamp, "step": e.step} for e in batch]
    endpoint = "/api/2.0/mlflow/runs/log-batch"
    body: dict[str, Any] = {"run_id": run_id, "metrics": metrics}
    if params:
        body["params"] = [{"key": p.key, "value": p.value} for p in params]
    if tags:
        body["tags"] = [{"key": t.key, "value": t.value} for t in tags]
    resp = http_request(store.get_host_creds(), endpoint, "POST", json=body, extra_headers=fresh_headers())
    verify_rest_response(resp, endpoint)


class _BulkWriter:
    """Write a new run's metric points in one transaction, as ``log_batch`` would have.

    Same stored values (NaN as 0 with ``is_nan``, infinities as +/-1.797e308), the same
    de-duplication of identical points, and the same "latest" value per key (greatest
    (step, timestamp, value), the first of equals), but multi-row INSERTs of up to 20,000 points
    instead of a session and commit per 1,000: on SQLite about ten times faster. The points go in
    one metric at a time (the transaction commits at the end, or nothing is written). The
    statements are SQLAlchemy constructs, so each database's dialect quotes what it reserves
    (MySQL's ``key``).
    """

    ROWS = 20_000

    def __init__(self, store: Any, run_id: str) -> None:
        import sqlalchemy as sa  # lazy: only SQL stores get here (see store.metric_tables_store)

        self.store, self.run_id = store, run_id
        names = ("key", "value", "timestamp", "run_uuid", "step", "is_nan")
        metrics, latest = (sa.table(table, *(sa.column(c) for c in names)) for table in ("metrics", "latest_metrics"))
        self.insert, self.insert_latest = sa.insert(metrics), sa.insert(latest)
        self.latest: list[dict[str, Any]] = []

    def __enter__(self) -> _BulkWriter:
        self._tx = self.store.engine.begin()
        self.conn = self._tx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        if exc[0] is None and self.latest:
            try:
                self.conn.execute(self.insert_latest, self.latest)
            except BaseException as err:  # the transaction is rolled back, and its connection returned
                self._tx.__exit__(type(err), err, err.__traceback__)
                raise
        return self._tx.__exit__(*exc)

    def add(self, name: str, metric: dict[str, Any], cols: dict[str, list[Any]] | None) -> None:
        """One metric's points (or its final value alone), checked as MLflow checks them."""
        if not cols:
            e = _metric_entities(name, metric, None)[0]
            cols = {"step": [e.step], "timestamp": [e.timestamp], "value": [e.value]}
        steps, times, values = cols["step"], cols["timestamp"], cols["value"]
        if not steps:
            return
        _validate_metric(name, to_float(values[0]), int(times[0]), int(steps[0]))  # MLflow's own check, so the store refuses what log_batch would
        # Identical points are stored once. In a history sorted by (step, timestamp) they can only
        # be neighbours within one (step, timestamp) group, so the set of points seen is kept per
        # group (a set of every point of a 200,000-point history took about 20 MB).
        ordered = all(steps[i] < steps[i + 1] or (steps[i] == steps[i + 1] and times[i] <= times[i + 1]) for i in range(len(steps) - 1))
        rows: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()
        group: tuple[int, int] | None = None
        latest: dict[str, Any] | None = None
        for s, t, v in zip(steps, times, values):
            step, ts = int(s), int(t)
            is_nan, value = self.store.sanitize_metric_value(to_float(v))
            if ordered and (step, ts) != group:
                group = (step, ts)
                seen.clear()
            ident = (step, ts, value, is_nan)
            if ident in seen:
                continue
            seen.add(ident)
            row = {"key": name, "value": float(value), "timestamp": ts, "run_uuid": self.run_id, "step": step, "is_nan": is_nan}
            rows.append(row)
            if latest is None or (step, ts, value) > (latest["step"], latest["timestamp"], latest["value"]):
                latest = row
            if len(rows) >= self.ROWS:
                self.conn.execute(self.insert, rows)
                rows = []
        if rows:
            self.conn.execute(self.insert, rows)
        if latest is not None:
            self.latest.append(latest)

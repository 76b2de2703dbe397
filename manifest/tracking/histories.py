"""Reading full metric histories from MLflow fast, columnar from the first byte.

- REST (``http(s)://`` servers): the history endpoint is called directly, with the client's own
  credentials and TLS settings, on its non-paginated path (one request per metric; pages are
  followed if a server sends them), and the JSON goes straight into columns, without protobuf and
  entity objects.
- SQL stores (SQLite and PostgreSQL, both tested; MySQL untested, its reserved ``key`` quoted by
  SQLAlchemy's dialect as in every statement here): one ``SELECT`` on MLflow's ``metrics`` table
  through the store's own SQLAlchemy engine, read-only; this avoids building one ORM object per
  point. The table's columns are checked first; any other layout falls back to the public API.
- Anything else: ``MlflowClient.get_metric_history``.

Every point is returned with its exact step, timestamp and value.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from array import array
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from mlflow.utils.rest_utils import http_request, verify_rest_response

from ..core.reals import to_float
from .store import InFlight, fresh_headers, metric_tables_store, rest_store

Columns = dict[str, Any]
"""``step``, ``timestamp`` and ``value``: machine arrays (``array('q')``, ``array('q')``,
``array('d')``) while fetched, 24 bytes a point where lists of Python numbers took about 100."""


def _columns() -> Columns:
    return {"step": array("q"), "timestamp": array("q"), "value": array("d")}


def _fetch_sql(store: Any, run_id: str, key: str) -> Columns:
    """The points in the order MLflow's own ``get_metric_history`` gives once sorted by (step,
    timestamp): ties by stored value (NaN is stored as 0). Without the ORDER BY, ties came in the
    order the database found them: by value through SQLite's primary-key index, but in logging
    order through PostgreSQL's index on (run_uuid, key, step), unlike its own public API."""
    import sqlalchemy as sa  # lazy: only SQL stores get here (see store.metric_tables_store)

    m = sa.table("metrics", *(sa.column(c) for c in ("run_uuid", "key", "step", "timestamp", "value", "is_nan")))
    query = sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan).where(m.c.run_uuid == run_id, m.c.key == key).order_by(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
    cols = _columns()
    steps, times, values = cols["step"].append, cols["timestamp"].append, cols["value"].append
    with store.engine.connect() as conn:  # rows read one by one into the columns: no list of row objects
        for step, ts, value, is_nan in conn.execute(query):
            steps(int(step))
            times(int(ts))
            values(math.nan if is_nan else float(value))
    return cols


#: Bytes read from a history response at a time.
READ_CHUNK = 1 << 16
#: Longest text one point can take (its key is at most 250 characters): anything longer that does
#: not parse is an error, not a point cut off at the end of a chunk.
MAX_POINT_TEXT = 1 << 16
_HEAD = re.compile(r'\s*\{\s*"metrics"\s*:\s*\[')
_GAP = re.compile(r"[\s,]*")


class _Text:
    """The response's text as far as it has arrived: ``buf[pos:]`` is what is still to read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.feed = iter(chunks)
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.done = "", 0, False

    def more(self) -> bool:
        """Read the next chunk (dropping what was read); False at the end."""
        if self.done:
            return False
        piece = next(self.feed, None)
        self.done = piece is None
        self.buf = self.buf[self.pos :] + self.utf8.decode(piece or b"", final=self.done)
        self.pos = 0
        return True

    def rest(self) -> str:
        while self.more():
            pass
        return self.buf[self.pos :]


def stream_points(chunks: Iterable[bytes], point: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Parse a ``get-history`` response (``{"metrics": [POINT, ...], "next_page_token": ...}``)
    as its bytes arrive, each point handed to ``point`` as soon as it is complete: the response
    (120 bytes a point as MLflow prints it, 24 MB for 200,000 points) is never held whole.
    Each point is read by the JSON decoder itself; the rest of the response is returned."""
    text = _Text(chunks)
    while (head := _HEAD.match(text.buf)) is None and len(text.buf) < 64 and text.more():
        pass
    if head is None:  # no points (MLflow leaves the empty list out), or another layout: read whole
        body = json.loads(text.rest() or "{}")
        if not isinstance(body, dict):
            raise ValueError("the history response is not a JSON object")
        for obj in body.get("metrics") or []:
            point(obj)
        return body
    text.pos = head.end()
    decoder = json.JSONDecoder()
    while True:
        text.pos = _GAP.match(text.buf, text.pos).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        if text.pos >= len(text.buf):
            if not text.more():
                raise ValueError("the history response ended inside its list of points")
        elif text.buf[text.pos] == "]":
            break
        else:
            try:
                obj, text.pos = decoder.raw_decode(text.buf, text.pos)
            except json.JSONDecodeError:
                if len(text.buf) - text.pos > MAX_POINT_TEXT or not text.more():  # no point is that long: it is not cut off, it is wrong
                    raise
                continue
            point(obj)
    text.pos += 1
    rest = text.rest().strip()  # "}" or ', "next_page_token": "..." }'
    tail = json.loads("{" + (rest[1:] if rest.startswith(",") else rest))
    return tail if isinstance(tail, dict) else {}


def _fetch_rest(store: Any, run_id: str, key: str) -> Columns:
    """Every page of the history, parsed into columns as the response arrives
    (:func:`stream_points`): a 200,000-point history read whole took about 130 MB at its peak."""
    creds = store.get_host_creds()
    cols = _columns()
    steps, times, values = cols["step"].append, cols["timestamp"].append, cols["value"].append

    def point(obj: dict[str, Any]) -> None:
        steps(int(obj.get("step", 0)))
        times(int(obj.get("timestamp", 0)))
        values(to_float(obj.get("value", 0.0)))

    endpoint = "/api/2.0/mlflow/metrics/get-history"
    token = None
    while True:
        params: dict[str, Any] = {"run_id": run_id, "metric_key": key}
        if token:
            params["page_token"] = token
        resp = http_request(creds, endpoint, "GET", params=params, extra_headers=fresh_headers(), stream=True)
        try:
            if resp.status_code != 200:
                verify_rest_response(resp, endpoint)  # raises MLflow's own error for the status
            body = stream_points(resp.iter_content(READ_CHUNK), point)
        finally:
            resp.close()
        token = body.get("next_page_token")
        if not token:
            break
    return cols


def _fetch_client(client: Any, run_id: str, key: str) -> Columns:
    cols = _columns()
    for p in client.get_metric_history(run_id, key):
        cols["step"].append(int(p.step))
        cols["timestamp"].append(int(p.timestamp))
        cols["value"].append(float(p.value))
    return cols


def sort_columns(cols: Columns) -> Columns:
    """Order points by step, then timestamp (stable: ties keep the store's order)."""
    steps, times = cols["step"], cols["timestamp"]
    n = len(steps)
    if all(steps[i] < steps[i + 1] or (steps[i] == steps[i + 1] and times[i] <= times[i + 1]) for i in range(n - 1)):
        return cols
    order = sorted(range(n), key=lambda i: (steps[i], times[i]))
    return {k: type(v)(v.typecode, (v[i] for i in order)) if isinstance(v, array) else [v[i] for i in order] for k, v in cols.items()}


def fetch_histories(
    client: Any,
    run_id: str,
    keys: list[str],
    *,
    workers: int = 4,
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] = lambda s: None,
    consume: Callable[[str, Columns], Any] | None = None,
) -> dict[str, Any]:
    """Every point of every metric in ``keys``, sorted by (step, timestamp), as lists; with ``consume``,
    what ``consume(key, columns)`` makes of each history (machine arrays) as soon as it has arrived (a sidecar
    written, say), so that no more than ``workers`` histories are held at once.

    Up to ``workers`` requests are in flight, each on its own connection: a multi-process server
    (``mlflow server`` defaults to 4 workers) works on them in parallel (1.6x faster than one at a
    time in ``benchmarks/``); a one-process server takes them in turn (2, 3 and 5 in flight
    measured within the run-to-run spread of one another).
    """
    rest = rest_store(client)
    sql = None if rest is not None else metric_tables_store(client)
    flight = InFlight(workers, log=log)

    def one(key: str) -> tuple[str, Any]:
        if rest is not None:
            cols = flight.call(_fetch_rest, rest, run_id, key)
        elif sql is not None:
            cols = _fetch_sql(sql, run_id, key)
        else:
            cols = _fetch_client(client, run_id, key)
        cols = sort_columns(cols)
        result = consume(key, cols) if consume is not None else {k: list(v) for k, v in cols.items()}
        if progress:
            progress(1)
        return key, result

    if len(keys) <= 1 or workers <= 1:
        return dict(one(k) for k in keys)
    with ThreadPoolExecutor(max_workers=min(workers, len(keys))) as pool:
        return dict(pool.map(one, keys))

"""Connecting to an MLflow tracking store: URI resolution, bounded failures, one readable error
per failure, and which kind of store is behind a client (REST server, SQL database, other).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlsplit, urlunsplit

import mlflow
from mlflow import MlflowClient
from mlflow.store.tracking.rest_store import RestStore
from mlflow.tracking.request_header.abstract_request_header_provider import RequestHeaderProvider
from mlflow.tracking.request_header.registry import _request_header_provider_registry

from ..core.problems import BadRequest, ManifestError, NotFound, Problem, TrackingError
from ..core.text import shorten
from ..core.uris import mask_text, mask_uri

T = TypeVar("T")

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: How long one HTTP request to a tracking server may take before we give up (seconds).
HTTP_TIMEOUT = 20


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (as MLflow does)."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _bound_retries() -> None:
    """MLflow retries a dead server for minutes by default; fail within seconds instead."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(HTTP_TIMEOUT))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


#: URI schemes of MLflow's tracking stores (a database scheme may add a driver: ``postgresql+psycopg2``).
STORE_SCHEMES = ("http", "https", "sqlite", "postgresql", "mysql", "mssql", "file", "databricks", "databricks-uc")


def check_scheme(uri: str) -> None:
    """A tracking URI with a scheme no MLflow store has is a usage error that says so, with the
    nearest known scheme (``htp://host`` would otherwise fail deep inside MLflow)."""
    scheme = urlsplit(uri).scheme.lower()
    if not scheme or len(scheme) == 1 or scheme.split("+", 1)[0] in STORE_SCHEMES:  # a path (or a drive letter)
        return
    near = difflib.get_close_matches(scheme.split("+", 1)[0], STORE_SCHEMES, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise BadRequest(Problem("usage", f"unknown scheme {shorten(scheme, 40)!r} in the tracking URI {mask_uri(uri)}{hint}; MLflow stores use {', '.join(STORE_SCHEMES[:7])} or a path"))


def preflight(uri: str) -> None:
    """Fail fast and readably when the store cannot be reached (before MLflow's own retries)."""
    shown = mask_uri(uri)
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        health = urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path.rstrip("/") + "/health", "", ""))
        try:
            with urllib.request.urlopen(health, timeout=5) as resp:  # noqa: S310 - the user's own server
                resp.read(64)
        except urllib.error.HTTPError:
            return  # it answers: authentication and routing errors are reported by the real call
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise TrackingError(Problem("tracking-timeout", f"the tracking server {shown} did not answer its health check within 5 s: it is up but slow or overloaded (retry later)")) from None
            raise TrackingError(Problem("tracking-unreachable", f"cannot reach the tracking server {shown}: {reason}")) from None
    elif parts.scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if path and path != ":memory:" and not Path(path).exists():
            raise TrackingError(Problem("tracking-unreachable", f"no MLflow store at {shown} (the file {path} does not exist)"))
    elif parts.scheme in ("", "file"):
        path = parts.path if parts.scheme == "file" else uri
        if not Path(path).exists():
            raise TrackingError(Problem("tracking-unreachable", f"no MLflow store at {shown}"))


def quiet_mlflow() -> None:
    """MLflow's and Alembic's INFO lines ("Creating initial MLflow database tables...", each
    migration) are for MLflow's own console, not ours: only their warnings reach the user."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


class _FreshConnections(RequestHeaderProvider):
    """Every request of this process to a tracking server on a connection of its own.

    On a kept-alive connection each request to ``mlflow server`` (uvicorn) waited about 40 ms
    more than on a fresh one (measured here: ``GET /health`` 50 ms against 12.5 ms, a small
    ``POST`` 71 ms against 27 ms), which at a dozen requests a run was most of the time a run took
    to export or import. A loopback connection costs well under a millisecond. Registered only
    by :func:`client`, so only this tool's own process sends the header."""

    def in_context(self) -> bool:
        return True

    def request_headers(self) -> dict[str, str]:
        return dict(FRESH_CONNECTION)


def _fresh_connections() -> None:
    if not any(isinstance(p, _FreshConnections) for p in _request_header_provider_registry):
        _request_header_provider_registry.register(_FreshConnections)


def fresh_headers() -> dict[str, str]:
    """The header for a bulk request of ours to go on a fresh connection, unless every request
    already asks for one (:class:`_FreshConnections`: MLflow refuses the header twice)."""
    return {} if any(isinstance(p, _FreshConnections) for p in _request_header_provider_registry) else dict(FRESH_CONNECTION)


def client(uri: str | None = None, *, check: bool = True) -> Any:
    """An ``MlflowClient`` for the resolved URI, after a reachability check."""
    _bound_retries()
    quiet_mlflow()
    _fresh_connections()
    resolved = resolve_tracking_uri(uri)
    check_scheme(resolved)
    if check:
        preflight(resolved)
    with mlflow_errors(resolved):
        # MLflow resolves some URIs (models:/, registry sources) through the process-wide
        # default; make it the store we were asked to use.
        mlflow.set_tracking_uri(resolved)
        if not resolved.startswith("file:"):
            mlflow.set_registry_uri(resolved)
        return MlflowClient(tracking_uri=resolved, registry_uri=resolved if not resolved.startswith("file:") else None)


@contextmanager
def mlflow_errors(uri: str, what: str = "") -> Iterator[None]:
    """Turn MLflow and network exceptions into one readable :class:`ManifestError`."""
    shown = mask_uri(uri)
    try:
        yield
    except ManifestError:
        raise
    except Exception as exc:  # noqa: BLE001 - classified below
        raise classify(exc, shown, what) from None


#: An HTTP 401 or 403 in an error text, not digits of something else: a port such as 60401 in
#: "HTTPConnectionPool(host=..., port=60401): Read timed out" once made a timeout "credentials refused".
_AUTH_STATUS = re.compile(r"(?<![\d:=.])40[13](?!\d)")


def classify(exc: BaseException, shown: str, what: str = "") -> ManifestError:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    code = getattr(exc, "error_code", "") or ""
    low = text.lower()
    subject = f" {what}" if what else ""
    if name in ("ReadTimeout", "Timeout", "TimeoutError") or "readtimeout" in low or "read timed out" in low:
        return TrackingError(Problem("tracking-timeout", f"the tracking server {shown} did not answer within {os.environ.get('MLFLOW_HTTP_REQUEST_TIMEOUT', HTTP_TIMEOUT)} s{subject}: it is up but slow or overloaded (retry later, set MLFLOW_HTTP_REQUEST_TIMEOUT=SECONDS higher, or send fewer requests at once with --jobs 1)"))
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or _AUTH_STATUS.search(text) or "unauthorized" in low or "permission" in low:
        return TrackingError(Problem("tracking-auth", f"the tracking server {shown} refused the credentials{subject}: {shorten(text)} (set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)"))
    if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_REQUEST"):
        return BadRequest(Problem("bad-request", f"the tracking store rejected the request{subject}: {shorten(text)}"))
    if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or "not found" in low or "does not exist" in low or "could not find" in low:
        return NotFound(Problem("not-found", f"{shorten(text)}{subject}"))
    if name in ("ConnectionError", "MaxRetryError", "NewConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout") or "max retries exceeded" in low or "connection" in low:
        return TrackingError(Problem("tracking-unreachable", f"cannot reach the tracking server {shown}{subject}: {shorten(text)}"))
    return TrackingError(Problem("tracking-error", f"the tracking store {shown} failed{subject}: {name}: {shorten(text)}"))


# --------------------------------------------------------------------------- slow servers

#: How often a bulk request that timed out is sent again (MLflow's own retries come first).
PATIENCE_RETRIES = 3
#: Seconds before the first resend; doubled for each further one.
PATIENCE_BACKOFF = 2.0
_TRANSIENT = frozenset({"tracking-timeout", "tracking-unreachable"})


class InFlight:
    """Bulk requests (history pages, log-batch calls), at most ``limit`` at once.

    A server that times out is usually overloaded, and more requests at once make it worse: after a
    timeout the limit is halved (down to one) and the request is sent again after a backoff (2, 4,
    8 s), up to :data:`PATIENCE_RETRIES` times; only then the error stands. Only idempotent requests
    go through here: reading, and log-batch of metric points (MLflow keeps one row per identical
    point), so a request that arrived but whose answer was lost does no harm when sent again.
    """

    def __init__(self, limit: int, *, log: Callable[[str], None] = lambda s: None, retries: int = PATIENCE_RETRIES, backoff: float = PATIENCE_BACKOFF) -> None:
        self.limit = max(1, limit)
        self.log = log
        self.retries = retries
        self.backoff = backoff
        self._busy = 0
        self._cond = threading.Condition()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(self.retries + 1):
            with self._slot():
                try:
                    return fn(*args)
                except Exception as exc:  # noqa: BLE001 - only transient failures are retried; others re-raised at once
                    if attempt == self.retries or not _transient(exc):
                        raise
                    why = shorten(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 120)
            wait = self.backoff * 2**attempt
            self._shrink(f"the tracking server did not answer ({mask_text(why)}); sending again in {wait:g} s")
            time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self._cond:
            while self._busy >= self.limit:
                self._cond.wait()
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _shrink(self, why: str) -> None:
        with self._cond:
            before, self.limit = self.limit, max(1, self.limit // 2)
        self.log(f"{why}, with {self.limit} request{'s' if self.limit > 1 else ''} in flight (was {before})")


def _transient(exc: BaseException) -> bool:
    return any(p.code in _TRANSIENT for p in classify(exc, "").problems)


# --------------------------------------------------------------------------- what is behind a client

#: Bulk requests (a whole history, a batch of 1,000 points) each use a new connection. A
#: multi-process ``mlflow server`` (the default: 4 workers) keeps a kept-alive connection on the
#: worker that accepted it, and connections opened together tend to be accepted by the same
#: worker: measured, two kept-alive connections put all 250 batches of an import on one worker
#: (52 s) where fresh connections spread them over all four (24 s). A connection costs well under
#: a millisecond here, against 0.1-2 s of server work per request.
FRESH_CONNECTION = {"Connection": "close"}

#: The columns of MLflow's ``metrics`` and ``latest_metrics`` tables that the SQL fast paths read
#: and write; any other layout falls back to the public API.
METRICS_COLUMNS = frozenset({"key", "value", "timestamp", "run_uuid", "step", "is_nan"})


def all_pages(search: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    """Every result of an MLflow search (``search_runs``, ``search_experiments``, ...), page
    after page (each answer carries the next page's ``token``)."""
    found: list[Any] = []
    token = None
    while True:
        page = search(*args, page_token=token, **kwargs)
        found.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return found


def tracking_store(client: Any) -> Any:
    """The store behind an ``MlflowClient`` (``None`` if MLflow changes where it keeps it)."""
    return getattr(getattr(client, "_tracking_client", None), "store", None)


def rest_store(client: Any) -> RestStore | None:
    """The REST store of a client talking to a tracking server, else ``None``."""
    store = tracking_store(client)
    return store if isinstance(store, RestStore) else None


def metric_tables_store(client: Any) -> Any:
    """MLflow's SQL store, when its metric tables have exactly the layout the fast paths know.

    The one detector for both fast paths (reading histories, writing a new run's points): any
    doubt, and the public API is used instead.
    """
    store = tracking_store(client)
    if type(store).__name__ != "SqlAlchemyStore":
        return None  # not imported to find out: that import costs ~0.7 s, which a REST export would pay
    import sqlalchemy as sa  # lazy: with MLflow's SQL store (~0.7 s), only SQL stores need it
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore  # lazy: as above

    if not isinstance(store, SqlAlchemyStore) or not hasattr(store, "engine") or not hasattr(store, "sanitize_metric_value"):
        return None
    try:
        inspector = sa.inspect(store.engine)
        for table in ("metrics", "latest_metrics"):
            if {c["name"] for c in inspector.get_columns(table)} != METRICS_COLUMNS:
                return None
    except Exception:  # noqa: BLE001 - any doubt: use the public API
        return None
    return store

"""Connecting to an MLflow tracking store: URI resolution, credential masking, bounded failures.

Every MLflow import happens inside functions, so that importing this module stays cheap.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import BadRequest, ManifestError, NotFound, Problem, TrackingError
from .rules import SECRET_QUERY_KEY as _SECRET_KEYS

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: How long one HTTP request to a tracking server may take before we give up (seconds).
HTTP_TIMEOUT = 20


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (as MLflow does)."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def mask_uri(uri: str) -> str:
    """The URI with user name, password and secret query parameters replaced by ``***``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if "@" not in parts.netloc and not parts.query:
        return uri  # nothing to hide (and urlunsplit would change sqlite:////abs/path)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_KEYS.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_credentials(uri: str) -> str:
    """The URI with user name, password and secret query parameters removed (for manifests)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if not parts.scheme or not parts.netloc:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    if parts.scheme in ("ssh", "git+ssh") and "@" in parts.netloc:
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        netloc = f"{user}@{netloc}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SECRET_KEYS.match(k)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _bound_retries() -> None:
    """MLflow retries a dead server for minutes by default; fail within seconds instead."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(HTTP_TIMEOUT))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


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
            raise TrackingError(Problem("tracking-unreachable", f"cannot reach the tracking server {shown}: {reason}")) from None
    elif parts.scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if path and path != ":memory:" and not Path(path).exists():
            raise TrackingError(Problem("tracking-unreachable", f"no MLflow store at {shown} (the file {path} does not exist)"))
    elif parts.scheme in ("", "file"):
        path = parts.path if parts.scheme == "file" else uri
        if not Path(path).exists():
            raise TrackingError(Problem("tracking-unreachable", f"no MLflow store at {shown}"))


def client(uri: str | None = None, *, check: bool = True) -> Any:
    """An ``MlflowClient`` for the resolved URI, after a reachability check."""
    _bound_retries()
    resolved = resolve_tracking_uri(uri)
    if check:
        preflight(resolved)
    with mlflow_errors(resolved):
        import mlflow
        from mlflow import MlflowClient

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


def classify(exc: BaseException, shown: str, what: str = "") -> ManifestError:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    code = getattr(exc, "error_code", "") or ""
    low = text.lower()
    subject = f" {what}" if what else ""
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or "401" in text or "403" in text or "unauthorized" in low or "permission" in low:
        return TrackingError(Problem("tracking-auth", f"the tracking server {shown} refused the credentials{subject}: {_short(text)} (set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)"))
    if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_REQUEST"):
        return BadRequest(Problem("bad-request", f"the tracking store rejected the request{subject}: {_short(text)}"))
    if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or "not found" in low or "does not exist" in low or "could not find" in low:
        return NotFound(Problem("not-found", f"{_short(text)}{subject}"))
    if name in ("ConnectionError", "MaxRetryError", "NewConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout") or "max retries exceeded" in low or "connection" in low:
        return TrackingError(Problem("tracking-unreachable", f"cannot reach the tracking server {shown}{subject}: {_short(text)}"))
    return TrackingError(Problem("tracking-error", f"the tracking store {shown} failed{subject}: {name}: {_short(text)}"))


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

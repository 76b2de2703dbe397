"""The two servers of the many-runs part: (S) ``mlflow server`` on a SQLite file and (P) the same on a
PostgreSQL database, both as teams run them (MLflow's default workers, no ``--workers``; proxied
artifacts; ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``). PostgreSQL is a cluster of Debian's
package started by the tests' own helper (``tests/support/postgres.py``), stopped at the end."""

from __future__ import annotations

import http.client
import re
import statistics
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from .bulk_checks import PostgresDb, SqliteDb
from .common import RunFailed
from .exim_servers import Server, tree_cpu_s

WHAT = {"S": "mlflow server, SQLite backend", "P": "mlflow server, PostgreSQL backend"}


def start_postgres() -> Any:
    """A fresh PostgreSQL cluster (``tests.support.postgres.start_cluster``: initdb as the
    ``postgres`` user, a free loopback port, its own directory under the temporary directory)."""
    try:
        from tests.support.postgres import start_cluster  # the tests' helper; run from the repository root (python -m benchmarks.run)
    except ImportError as exc:
        raise RunFailed(f"cannot import tests.support.postgres (run `python -m benchmarks.run` from the repository root): {exc}") from None
    try:
        return start_cluster("bench")
    except Exception as exc:  # noqa: BLE001 - PostgresMissing, a failed initdb or start: say it, stop
        raise RunFailed(f"PostgreSQL did not start: {exc}") from None


class PgServer(Server):
    """``mlflow server`` on a new database of ``cluster``; its CPU time includes PostgreSQL's
    processes (the postmaster's tree, with the backends it has reaped)."""

    def __init__(self, home: Path, cluster: Any) -> None:
        self.cluster = cluster
        self.dbname = cluster.create_database("mlflow_bulk")
        super().__init__(home, backend=cluster.uri(self.dbname))

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def cpu_s(self) -> float | None:
        own = super().cpu_s()
        pid = self.postmaster_pid()
        pg = tree_cpu_s(pid) if pid else None
        return None if own is None or pg is None else own + pg


class Servers:
    """(S) and/or (P): started, their databases for the checks, stopped (PostgreSQL too)."""

    def __init__(self, work: Path, which: list[str]) -> None:
        self.work, self.which = work, which
        self.cluster: Any = None
        self.srv: dict[str, Server] = {}

    def start(self, log: Any) -> dict[str, Any]:
        info: dict[str, Any] = {}
        for store in self.which:
            if store == "P":
                self.cluster = start_postgres()
                log(f"PostgreSQL: a cluster in {self.cluster.root} on 127.0.0.1:{self.cluster.port} ({self.cluster.bin}/initdb, pg_ctl; fsync off, as in the tests)")
                srv: Server = PgServer(self.work / "P", self.cluster)
            else:
                srv = Server(self.work / "S")
            self.srv[store] = srv
            srv.start()
            info[store] = {"command": srv.cmd, "backend": srv.backend, "env": "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false", "start_s": srv.start_s, "uri": srv.uri}
        return info

    def uri(self, store: str) -> str:
        return self.srv[store].uri

    def art(self, store: str) -> Path:
        return self.srv[store].home / "art"

    def db(self, store: str) -> SqliteDb | PostgresDb:
        srv = self.srv[store]
        return PostgresDb(self.cluster, srv.dbname) if isinstance(srv, PgServer) else SqliteDb(srv.db)

    def stop(self) -> None:
        try:
            for srv in self.srv.values():
                srv.stop()
        finally:
            if self.cluster is not None:
                self.cluster.stop()


# --------------------------------------------------------------------------- what the server saw


_ARTIFACT_FILES = "/mlflow-artifacts/artifacts/"  # then EXPERIMENT/RUN/artifacts/FILE: proxied uploads and downloads
_ACCESS = re.compile(r'"([A-Z]+) ([^ ?"]+)[^"]* HTTP/1\.[01]"')


def log_mark(srv: Server) -> int:
    """The size of the server's log now (its access lines are counted from there)."""
    try:
        return (srv.home / "server.log").stat().st_size
    except OSError:
        return 0


def requests_since(srv: Server, mark: int) -> dict[str, Any]:
    """The HTTP requests the server logged (uvicorn's access lines) since ``mark``, by endpoint."""
    with open(srv.home / "server.log", "rb") as f:
        f.seek(mark)
        text = f.read().decode("utf-8", "replace")
    by = Counter(f"{m.group(1)} {_endpoint(m.group(2))}" for m in _ACCESS.finditer(text))
    return {"total": sum(by.values()), "by_endpoint": dict(by.most_common())}


def _endpoint(path: str) -> str:
    """A request path without the artifact's own path (one entry per endpoint, not per file)."""
    head, sep, _ = path.partition(_ARTIFACT_FILES)
    return f"{head}{sep}PATH" if sep else path


def latency_probe(uri: str, n: int = 8) -> dict[str, float]:
    """Median milliseconds of ``GET /health``: on a fresh connection each time, and on one kept-alive
    connection (what MLflow's client, a requests session, does)."""
    fresh = []
    for _ in range(n):
        t = time.perf_counter()
        with urllib.request.urlopen(f"{uri}/health", timeout=10) as r:
            r.read()
        fresh.append(time.perf_counter() - t)
    host, port = uri.rsplit("/", 1)[-1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=10)
    kept = []
    try:
        for _ in range(n + 1):
            t = time.perf_counter()
            con.request("GET", "/health")
            con.getresponse().read()
            kept.append(time.perf_counter() - t)
    finally:
        con.close()
    return {"fresh_connection_ms": 1000 * statistics.median(fresh), "kept_alive_ms": 1000 * statistics.median(kept[1:])}

"""A real PostgreSQL for tests: a cluster of Debian's ``postgresql`` package, started here.

One cluster per test worker, in a directory of its own under the system's temporary directory
(``manifest-pg-<worker>-<random>``, mode 0700, owned by the ``postgres`` user: PostgreSQL refuses
to run as root, and pytest's temporary folders are private to root), listening on 127.0.0.1 and a
free port only, with its unix socket in that directory: the package's own cluster (port 5432),
should one run, is neither used nor touched. Trust authentication, for 127.0.0.1 and the socket
only. Durability is switched off (``fsync``, ``synchronous_commit``): a test database lives for
one session. Databases are cheap (``CREATE DATABASE`` copies a template): one per test.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .mlflow_env import free_port

#: The system user Debian's package creates; the server runs as this user when we are root.
PG_USER = "postgres"
#: The database superuser initdb creates (a role, whoever runs the server).
SUPERUSER = "postgres"
HINT = "run `make system-deps` (as root: it installs Debian's postgresql package)"


class PostgresMissing(RuntimeError):
    """PostgreSQL's server programs are not installed: a setup error, never a reason to skip."""


def bindir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest
    ``/usr/lib/postgresql/<major>/bin`` (Debian keeps them off PATH, one directory per major)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0])
    if not versions:
        raise PostgresMissing(f"PostgreSQL's initdb and pg_ctl are not installed (not on PATH, not in /usr/lib/postgresql/*/bin): {HINT}")
    return versions[-1]


def _owner() -> dict[str, Any]:
    """``subprocess`` arguments that run the server's programs as ``postgres`` when we are root
    (the switch is made by the child, between fork and exec; no shell, no su/runuser quoting)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(PG_USER)
    except KeyError:
        raise PostgresMissing(f"running as root, but there is no {PG_USER!r} user to run PostgreSQL as (the package creates it): {HINT}") from None
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


@dataclass
class Cluster:
    """A running PostgreSQL cluster of this test worker."""

    root: Path
    port: int
    bin: Path
    env: dict[str, str]
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def uri(self, database: str, driver: str | None = "psycopg") -> str:
        """A SQLAlchemy URI of ``database``: ``postgresql+psycopg://`` by default; ``driver=None``
        gives the plain ``postgresql://`` that users type (MLflow 3 opens it with psycopg too)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname=database, autocommit=True, connect_timeout=10)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``, which must have no open connection)."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(stmt)
        return name

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no server log)"

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended) and remove its directory.
        Idempotent: called by the fixture's teardown and, should that never run, at exit."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data / "postmaster.pid").exists():
                r = subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop"],
                                   capture_output=True, text=True, env=self.env, cwd=self.root, timeout=60, **_owner())
                if r.returncode != 0:
                    _kill_postmaster(self.data)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    """What ``pg_ctl stop`` could not stop: SIGQUIT (immediate shutdown) to the postmaster."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass  # gone already


def _run(args: list[str], *, env: dict[str, str], cwd: Path, what: str, timeout: float = 120) -> None:
    r = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, **_owner())
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")


def start_cluster(worker: str = "main", *, attempts: int = 3) -> Cluster:
    """``initdb`` a new cluster and ``pg_ctl start`` it on a free loopback port.

    A port taken between choosing and binding it is retried on another port. The directory is
    removed again when anything fails.
    """
    bin = bindir()
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix=f"manifest-pg-{re.sub(r'[^A-Za-z0-9]', '', worker)}-"))  # mode 0700
    if owner:
        os.chown(root, owner["user"], owner["group"])
    # The server's programs see none of our PG* settings (PGHOST, PGPORT, ...) and a home they can read.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=str(root), LC_ALL="C", TZ="UTC")
    cluster = Cluster(root, 0, bin, env)
    try:
        _run([str(bin / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
             env=env, cwd=root, what="initdb")
        (cluster.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        with open(cluster.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\nmax_connections = 200\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n")
        for attempt in range(attempts):
            cluster.port = free_port()
            try:
                _run([str(bin / "pg_ctl"), "-D", str(cluster.data), "-l", str(root / "server.log"), "-o", f"-p {cluster.port}", "-w", "-t", "60", "start"],
                     env=env, cwd=root, what="pg_ctl start")
                break
            except RuntimeError:
                if attempt == attempts - 1 or "could not bind" not in cluster.log():
                    raise RuntimeError(f"PostgreSQL did not start:\n{cluster.log()}") from None
        atexit.register(cluster.stop)
        return cluster
    except BaseException:
        cluster.stop()
        raise

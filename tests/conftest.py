"""Shared fixtures: the installed ``manifest`` entry point and the reference example."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from support.paths import EXAMPLE, ROOT, minimal  # noqa: F401  (re-exported names for fixtures)

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def manifest_bin() -> Path:
    """The console script installed next to this interpreter (never a module shortcut)."""
    exe = Path(sys.executable).parent / "manifest"
    assert exe.exists(), f"the entry point {exe} is not installed; run `make install`"
    return exe


@pytest.fixture
def cli(manifest_bin: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, input: str | bytes | None = None, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        if isinstance(input, bytes):
            proc = subprocess.run([str(manifest_bin), *args], input=input, capture_output=True, cwd=cwd, timeout=timeout)
            return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
        return subprocess.run([str(manifest_bin), *args], input=input, capture_output=True, text=True, cwd=cwd, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def _example_data() -> dict[str, Any]:
    from manifest.document.reader import load_path

    return load_path(EXAMPLE).data


@pytest.fixture
def example(_example_data: dict[str, Any]) -> dict[str, Any]:
    """A fresh deep copy of the reference example's data."""
    return copy.deepcopy(_example_data)


# --------------------------------------------------------------------------- real MLflow


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `mlflow server` on 127.0.0.1 (free port), for this test session (per xdist worker)."""
    from support.mlflow_env import start_server

    server = start_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `mlflow server --app-name basic-auth`."""
    from support.mlflow_env import start_server

    server = start_server(tmp_path_factory.mktemp("mlflow-auth-server"), auth=True)
    yield server
    server.stop()


@pytest.fixture
def sqlite_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The embedded default: a SQLite store, here in a temporary directory (also the working
    directory, since MLflow puts a SQLite store's artifacts under ./mlruns)."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/mlflow.db"


# --------------------------------------------------------------------------- real PostgreSQL


@pytest.fixture(scope="session")
def postgres_cluster():
    """This worker's own PostgreSQL cluster (Debian's initdb and pg_ctl, a free loopback port),
    stopped and removed at the end of the session. Missing programs fail: `make system-deps`."""
    from support.postgres import start_cluster

    cluster = start_cluster(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_uri(postgres_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new PostgreSQL database as an MLflow store (``postgresql+psycopg://``); as with
    ``sqlite_uri``, the working directory is the test's, where the store's artifacts go (./mlruns)."""
    monkeypatch.chdir(tmp_path)
    return postgres_cluster.uri(postgres_cluster.create_database())


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store_uri(request: pytest.FixtureRequest) -> str:
    """A fresh store of each database the direct-SQL fast paths are tested on."""
    return request.getfixturevalue(f"{request.param}_uri")


@pytest.fixture(scope="session")
def postgres_server(postgres_cluster, tmp_path_factory: pytest.TempPathFactory):
    """A real `mlflow server` whose store is a PostgreSQL database, given as the plain
    ``postgresql://`` URI teams write; artifacts proxied (``--serve-artifacts``)."""
    from support.mlflow_env import start_server

    store = postgres_cluster.uri(postgres_cluster.create_database("mlflow_server"), driver=None)
    server = start_server(tmp_path_factory.mktemp("mlflow-postgres-server"), backend_store_uri=store)
    yield server
    server.stop()

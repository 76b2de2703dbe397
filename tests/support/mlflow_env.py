"""Real MLflow for tests: SQLite stores in temporary directories and `mlflow server` processes.

Nothing is mocked: servers are the real ``mlflow server`` on 127.0.0.1 with a free port, started
and stopped here; runs are made by real MLflow logging code.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    uri: str
    port: int
    proc: subprocess.Popen[bytes]
    root: Path
    username: str | None = None
    password: str | None = None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def env(self) -> dict[str, str]:
        out = {"MLFLOW_TRACKING_URI": self.uri}
        if self.username:
            out["MLFLOW_TRACKING_USERNAME"] = self.username
            out["MLFLOW_TRACKING_PASSWORD"] = self.password or ""
        return out


def start_server(root: Path, *, auth: bool = False, timeout: float = 90, port: int | None = None, backend_store_uri: str | None = None, mlflow_bin: Path | None = None) -> Server:
    """Start ``mlflow server`` (one worker, no job runner) and wait until /health answers.

    Its store is ``backend_store_uri`` (a PostgreSQL database, say), by default a SQLite file in
    ``root``; artifacts are proxied, kept in ``root``. Starting again with the same ``root`` (and
    ``port`` and ``backend_store_uri``) serves the same store. ``mlflow_bin`` is another MLflow's
    command (an MLflow 2 venv's, say); by default this interpreter's.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", MLFLOW_DISABLE_TELEMETRY="true")
    store = backend_store_uri or f"sqlite:///{root}/server.db"
    args = [str(mlflow_bin or BIN / "mlflow"), "server", "--backend-store-uri", store, "--artifacts-destination", str(root / "artifacts"),
            "--serve-artifacts", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    username = password = None
    if auth:
        username, password = "admin", "correct-horse-battery-staple-1"
        ini = root / "basic_auth.ini"
        ini.write_text(
            "[mlflow]\ndefault_permission = READ\n"
            f"database_uri = sqlite:///{root}/auth.db\n"
            f"admin_username = {username}\nadmin_password = {password}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        env.update(MLFLOW_AUTH_CONFIG_PATH=str(ini), MLFLOW_FLASK_SERVER_SECRET_KEY="test-secret-key", MLFLOW_AUTH_ADMIN_PASSWORD=password)
        args += ["--app-name", "basic-auth"]
    log = open(root / "server.log", "ab")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {proc.returncode}:\n{(root / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                if r.status == 200:
                    return Server(uri, port, proc, root, username, password)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"mlflow server did not answer within {timeout}s:\n{(root / 'server.log').read_text()[-3000:]}")


@contextlib.contextmanager
def tracking(uri: str, username: str | None = None, password: str | None = None) -> Iterator[None]:
    """Point the fluent MLflow API (and child processes) at ``uri`` for the duration."""
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ["MLFLOW_TRACKING_URI"] = uri
    if username:
        os.environ["MLFLOW_TRACKING_USERNAME"] = username
        os.environ["MLFLOW_TRACKING_PASSWORD"] = password or ""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        if mlflow.active_run():
            mlflow.end_run()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        mlflow.set_tracking_uri(saved["MLFLOW_TRACKING_URI"] or "")
        mlflow.set_registry_uri(saved["MLFLOW_REGISTRY_URI"])  # (None: back to "same as tracking")

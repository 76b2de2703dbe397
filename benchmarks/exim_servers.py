"""The local ``mlflow server`` processes of the export/import part, (A) and (A1): started in their
own process group, ready when ``GET /health`` answers, their CPU time read with psutil, stopped by id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from .common import BIN, RunFailed, base_env

MLFLOW = str(BIN / "mlflow")
READY_WITHIN_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_s(pid: int) -> float | None:
    """User + system CPU time so far of process ``pid`` and its descendants (psutil), or None."""
    try:
        import psutil

        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                c = p.cpu_times()
                total += c.user + c.system + getattr(c, "children_user", 0.0) + getattr(c, "children_system", 0.0)
            except psutil.Error:
                pass
        return total
    except Exception:  # noqa: BLE001
        return None


class Server:
    """``mlflow server`` in its own process group (stopped by its id); ``workers=None`` keeps
    MLflow's default number of worker processes; ``backend`` (a backend store URI) replaces the
    SQLite file ``home/srv.db``."""

    def __init__(self, home: Path, workers: int | None = None, backend: str | None = None) -> None:
        self.home = home
        self.workers = workers
        self.db = home / "srv.db"
        self.backend = backend or f"sqlite:///{self.db}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.start_s = 0.0
        self.cmd: list[str] = []

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        return [
            MLFLOW, "server", "--backend-store-uri", self.backend, "--artifacts-destination", str(self.home / "art"),
            "--serve-artifacts", "--host", "127.0.0.1", "--port", str(self.port),
        ] + (["--workers", str(self.workers)] if self.workers else [])

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.cmd = self._command()
        env = base_env()
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        log = open(self.home / "server.log", "wb")  # noqa: SIM115 - closed with the process
        t = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=self.home, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready(t)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def _wait_ready(self, t: float) -> None:
        """Poll ``GET /health`` until it answers 200 (``start_s``: seconds since ``t``)."""
        assert self.proc is not None
        deadline = t + READY_WITHIN_S
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RunFailed(f"mlflow server exited with {self.proc.returncode}; see {self.home / 'server.log'}")
            if self._healthy():
                self.start_s = time.perf_counter() - t
                return
            time.sleep(0.2)
        raise RunFailed(f"mlflow server did not answer GET /health within {READY_WITHIN_S} s; see {self.home / 'server.log'}")

    def cpu_s(self) -> float | None:
        """User + system CPU time of the server's processes so far, or None."""
        return None if self.proc is None else tree_cpu_s(self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this Popen created (start_new_session)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

"""The two virtualenvs of the export/import part: the peer's own (``.bench/peer-venv``, created once,
never the main ``.venv``), and the untimed warm-up of both before the first timed run."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .common import MANIFEST, PY, ROOT, RunFailed, base_env, short_path

PEER_VENV = ROOT / ".bench" / "peer-venv"
PEER_BIN = PEER_VENV / "bin"
PEER_PINS = ["mlflow==3.17.2", "mlflow-export-import==1.2.0", "tabulate"]
_PEER_VERSIONS = "import importlib.metadata as m, sys; print(m.version('mlflow'), m.version('mlflow-export-import'), sys.version.split()[0])"


def _create_peer_venv(log: Callable[[str], None]) -> None:
    log(f"creating the peer's separate virtualenv {short_path(str(PEER_VENV))} (once; not timed): python3 -m venv + pip install {' '.join(PEER_PINS)}")
    subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    p = subprocess.run([str(PEER_BIN / "pip"), "install", "-q", "--disable-pip-version-check", *PEER_PINS], capture_output=True, text=True)
    if p.returncode != 0:
        raise RunFailed(f"could not install the peer into {PEER_VENV}:\n{p.stderr[-2000:]}")


def ensure_peer(log: Callable[[str], None]) -> dict[str, Any]:
    """The peer's virtualenv (created on first use) and the versions in it."""
    created = False
    t = time.perf_counter()
    if not (PEER_BIN / "export-run").exists():
        _create_peer_venv(log)
        created = True
    p = subprocess.run([str(PEER_BIN / "python"), "-c", _PEER_VERSIONS], capture_output=True, text=True, env=base_env())
    if p.returncode != 0:
        raise RunFailed(f"the peer's virtualenv {PEER_VENV} is broken:\n{p.stderr[-1500:]}")
    mv, pv, pyv = p.stdout.split()
    return {"venv": str(PEER_VENV), "created_now": created, "setup_s": time.perf_counter() - t if created else 0.0, "mlflow": mv, "mlflow_export_import": pv, "python": pyv}


def warm(cwd: Path) -> None:
    """Fill the page cache and the bytecode cache once per venv (untimed), so round 1 is not penalised."""
    env = base_env()
    for cmd in ([PY, "-c", "import mlflow, mlflow.server"], [MANIFEST, "--version"], [str(PEER_BIN / "python"), "-c", "import mlflow, mlflow_export_import.run.export_run, mlflow_export_import.run.import_run"]):
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)

"""The reference example in a throw-away git repository, trained into a SQLite store there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.mlflow_runs import git

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Iris:
    repo: Path
    workdir: Path  # examples/iris inside the repo
    uri: str
    home: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ, MLFLOW_TRACKING_URI=self.uri, MLFLOW_DISABLE_TELEMETRY="true", GIT_CEILING_DIRECTORIES=str(self.home))
        env.pop("MLFLOW_REGISTRY_URI", None)  # another test's store must not leak in
        return env

    def train(self, *args: str) -> str:
        proc = subprocess.run([str(BIN / "python"), "train.py", *args], cwd=self.workdir, env=self.env(), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout.strip().splitlines()[-1]

    def manifest(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "manifest"), *args], cwd=cwd or self.home, env=self.env(), capture_output=True, text=True, timeout=timeout)


def make_iris(home: Path) -> Iris:
    repo = home / "repo"
    work = repo / "examples" / "iris"
    work.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "iris" / "train.py", work / "train.py")
    shutil.copytree(ROOT / "examples" / "iris" / "data", work / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "iris example")
    uri = f"sqlite:///{home}/mlflow.db"
    import mlflow

    mlflow.MlflowClient(uri).create_experiment("iris-random-forest", artifact_location=(home / "artifacts").as_uri())
    return Iris(repo, work, uri, home)

"""The spec-1.0 fields that MLflow or the capture API hold reach the manifest, and survive an import
(export -> import -> export gives them back): code files with their bytes, the container, why a run
failed, and the model card read from ``MLmodel``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.mlflow_env import tracking
from support.mlflow_runs import fluent_run, git

from manifest.document.reader import load_path

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent / "manifest"

SCRIPT = textwrap.dedent(
    '''
    import mlflow, sys
    from manifest import capture

    mlflow.set_experiment("fields")
    run = mlflow.start_run(run_name="fields")
    capture.log_context(config_files=["conf/train.yaml"], untracked_files=["notes.txt"], container={"image": "ghcr.io/example/train:1.4", "runtime": "docker"})
    mlflow.log_metric("score", 0.5)
    try:
        raise MemoryError("CUDA out of memory at step 1200")
    except MemoryError as exc:
        capture.log_error(exc)
        mlflow.end_run(status="FAILED")
    print(run.info.run_id)
    '''
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=600)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "conf").mkdir(parents=True)
    (repo / "train.py").write_text(SCRIPT)
    (repo / "conf" / "train.yaml").write_text("lr: 0.01\nlayers: [64, 64]\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    (repo / "notes.txt").write_bytes("untracked ✓\n".encode())  # after the commit: untracked
    return repo


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_code_files_container_and_the_failure_travel_with_the_manifest(sqlite_uri, tmp_path):
    repo = _repo(tmp_path)
    proc = subprocess.run([sys.executable, "train.py"], cwd=repo, capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "MLFLOW_TRACKING_URI": sqlite_uri})
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_id = proc.stdout.strip().splitlines()[-1]
    out = tmp_path / "a" / "m.yaml"
    out.parent.mkdir()
    r = _cli("export", run_id, "--tracking-uri", sqlite_uri, "-o", str(out))
    assert r.returncode == 0, r.stderr
    m = load_path(out).data
    assert m["run"]["status"] == "FAILED" and m["run"]["error"] == "MemoryError: CUDA out of memory at step 1200"
    assert m["environment"]["container"] == {"image": "ghcr.io/example/train:1.4", "runtime": "docker"}
    [cfg] = m["code"]["config_files"]
    [untracked] = m["code"]["untracked_files"]
    assert cfg == {"path": "conf/train.yaml", "size": (repo / "conf" / "train.yaml").stat().st_size, "digest": {"sha256": _sha(repo / "conf" / "train.yaml")}, "local_path": "m.code/conf/train.yaml"}
    assert untracked["path"] == "notes.txt" and untracked["digest"] == {"sha256": _sha(repo / "notes.txt")}
    assert (out.parent / cfg["local_path"]).read_bytes() == (repo / "conf" / "train.yaml").read_bytes()
    assert _cli("validate", str(out)).returncode == 0
    # import into another store, export again: the same fields and bytes come back
    target = f"sqlite:///{tmp_path / 'target.db'}"
    r = _cli("import", "--tracking-uri", target, str(out))
    assert r.returncode == 0, r.stderr
    new_id = r.stdout.strip().splitlines()[-1]
    again = tmp_path / "b" / "m.yaml"
    again.parent.mkdir()
    assert _cli("export", new_id, "--tracking-uri", target, "-o", str(again)).returncode == 0
    m2 = load_path(again).data
    assert m2["run"]["error"] == m["run"]["error"] and m2["environment"]["container"] == m["environment"]["container"]
    assert m2["code"]["config_files"] == m["code"]["config_files"] and m2["code"]["untracked_files"] == m["code"]["untracked_files"]
    assert (again.parent / cfg["local_path"]).read_bytes() == (repo / "conf" / "train.yaml").read_bytes()


def test_a_shipped_code_file_that_was_changed_is_refused_by_import(sqlite_uri, tmp_path):
    repo = _repo(tmp_path)
    proc = subprocess.run([sys.executable, "train.py"], cwd=repo, capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "MLFLOW_TRACKING_URI": sqlite_uri})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "a" / "m.yaml"
    out.parent.mkdir()
    assert _cli("export", proc.stdout.strip().splitlines()[-1], "--tracking-uri", sqlite_uri, "-o", str(out)).returncode == 0
    (out.parent / "m.code" / "conf" / "train.yaml").write_text("lr: 10.0\nlayers: [64, 64]\n")
    r = _cli("import", "--tracking-uri", f"sqlite:///{tmp_path / 'target.db'}", str(out))
    assert r.returncode == 6 and "/code/config_files/0" in r.stderr, r.stderr
    assert not (tmp_path / "target.db").exists()


def test_the_model_card_comes_from_mlmodel(sqlite_uri, tmp_path):
    import sklearn

    with tracking(sqlite_uri):
        info = fluent_run("card", register_as=None)
    out = tmp_path / "a" / "m.yaml"
    out.parent.mkdir()
    r = _cli("export", info["run_id"], "--tracking-uri", sqlite_uri, "-o", str(out))
    assert r.returncode == 0, r.stderr
    [model] = load_path(out).data["models"]
    card = model["card"]
    assert card["framework"] == f"scikit-learn {sklearn.__version__}"
    names = [c["name"] for c in card["signature"]["inputs"]]
    assert names == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    assert json.dumps(card["signature"]["outputs"])  # a list of objects, parsed from MLmodel's JSON string

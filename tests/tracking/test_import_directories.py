"""`manifest import` of a directory artifact: its dirHash (spec 6.3) is checked on the staged copy,
on a real SQLite store; the expected digests are written out here with hashlib."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.paths import minimal

from manifest.document.writer import dumps_yaml

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent / "manifest"
FILES = {"loss.png": b"\x89PNG fake", "sub/roc.csv": b"fpr,tpr\n0,0\n1,1\n"}


def _dir_hash(files: dict[str, bytes]) -> str:
    listing = "".join(f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files, key=str.encode))
    return hashlib.sha256(listing.encode()).hexdigest()


def _bundle(tmp_path: Path, artifact: dict[str, Any]) -> Path:
    folder = tmp_path / "bundle" / "m.artifacts" / "plots"
    for rel, body in FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(body)
    data = minimal()
    data["artifacts"] = [{"path": "plots", "size": sum(map(len, FILES.values())), "digest": {"dirHash": _dir_hash(FILES)}, "local_path": "m.artifacts/plots", **artifact}]
    m = tmp_path / "bundle" / "m.yaml"
    m.write_text(dumps_yaml(data))
    return m


def _import(uri: str, m: Path, experiment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), "import", "--tracking-uri", uri, str(m), "--experiment", experiment], capture_output=True, text=True, timeout=300)


def _runs(uri: str) -> int:
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    return sum(len(client.search_runs([e.experiment_id], run_view_type=ViewType.ALL)) for e in client.search_experiments(view_type=ViewType.ALL))


@pytest.mark.parametrize("artifact", [{"kind": "directory"}, {}], ids=["kind-directory", "kind-absent"])
def test_a_directory_artifact_is_imported_file_by_file(sqlite_uri, tmp_path, artifact):
    import mlflow

    r = _import(sqlite_uri, _bundle(tmp_path, artifact), "dirs")
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.strip().splitlines()[-1]
    got = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plots", tracking_uri=sqlite_uri, dst_path=str(tmp_path / "down")))
    assert {p.relative_to(got).as_posix(): p.read_bytes() for p in got.rglob("*") if p.is_file()} == FILES


@pytest.mark.parametrize("case", ["changed-byte", "line-feed-name", "sha256-for-a-directory"])
def test_a_directory_that_is_not_its_digest_is_refused_before_the_store_is_touched(sqlite_uri, tmp_path, case):
    m = _bundle(tmp_path, {"kind": "directory"})
    folder = m.parent / "m.artifacts" / "plots"
    if case == "changed-byte":
        (folder / "loss.png").write_bytes(b"\x89PNG fakf")  # same size
    elif case == "line-feed-name":
        (folder / "sub" / "roc.csv").rename(folder / "a\nfake")
    else:
        m.write_text(m.read_text().replace(f'dirHash: "{_dir_hash(FILES)}"', f"sha256: {'ab' * 32}"))
    before = _runs(sqlite_uri)
    r = _import(sqlite_uri, m, f"refused-{case}")
    expected = {"changed-byte": (6, "has dirHash"), "line-feed-name": (6, "line feed"), "sha256-for-a-directory": (1, "a directory's digest is dirHash alone")}[case]
    assert (r.returncode, expected[1] in r.stderr) == (expected[0], True), r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr and all(ln.startswith("manifest: ") for ln in r.stderr.splitlines())
    assert _runs(sqlite_uri) == before
    if case == "line-feed-name":
        assert "a\\nfake" in r.stderr and os.path.exists(folder / "a\nfake")

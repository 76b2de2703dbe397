"""Paper bundles: manifests, index, tables, replicates, plots, checksums, README; and their checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from iris_env import Iris, make_iris

from manifest.parse import load_path


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Iris:
    env = make_iris(tmp_path_factory.mktemp("iris-bundle"))
    env.train("--n-estimators", "20")
    for seed in (1, 2, 3):
        env.train("--n-estimators", "5", "--random-state", str(seed), "--test-size", "0.5", "--alias", "")
    return env


def test_bundle_contents(iris, tmp_path):
    out = tmp_path / "paper"
    r = iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out), "--with-models", "--metrics", "accuracy,accuracy_by_trees")
    assert r.returncode == 0, r.stderr
    index = json.loads((out / "index.json").read_text())
    assert len(index["manifests"]) == 4
    for e in index["manifests"]:
        data = load_path(out / e["path"]).data
        assert data["id"] == e["id"]
    md = (out / "results.md").read_text()
    assert md.splitlines()[0] == "| run | n_estimators | test_size | accuracy | accuracy_by_trees |"
    replicate_row = next(ln for ln in md.splitlines() if "replicates" in ln)
    assert "(n=3)" in replicate_row and "±" in replicate_row and "| 5 | 0.5 |" in replicate_row
    assert "Runs that differ only in random_state are replicates" in md
    tex = (out / "results.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"$\pm$" in tex and r"n\_estimators" in tex
    assert (out / "plots" / "accuracy_by_trees.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "plots" / "accuracy.png").exists()  # one point per run: nothing to plot
    readme = (out / "README.md").read_text()
    assert "manifest validate ." in readme and "sha256sum -c SHA256SUMS" in readme and "manifest import manifests/" in readme
    assert any(p.name == "model.skops" for p in (out / "manifests" / "models").rglob("*"))
    check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {ln.split("  ", 1)[1] for ln in (out / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert listed == on_disk
    v = iris.manifest("validate", str(out))
    assert v.returncode == 0, v.stdout
    assert "1 bundle checked: checksums and index intact" in v.stdout


def test_altered_or_missing_file_is_named(iris, tmp_path):
    out = tmp_path / "paper"
    assert iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out)).returncode == 0
    with (out / "results.md").open("a") as fh:
        fh.write("tampered\n")
    v = iris.manifest("validate", str(out))
    assert v.returncode == 1
    assert "results.md: sha256 is" in v.stdout and "SHA256SUMS says" in v.stdout
    victim = next((out / "manifests").glob("*.yaml"))
    victim.unlink()
    v = iris.manifest("validate", str(out))
    assert v.returncode == 1
    assert f"{victim.relative_to(out).as_posix()} is listed in SHA256SUMS but missing" in v.stdout
    assert f"{victim.relative_to(out).as_posix()} is listed in index.json but missing" in v.stdout


def test_existing_directory_refused_unless_force(iris, tmp_path):
    out = tmp_path / "paper"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out))
    assert r.returncode == 5 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert (out / "keep.txt").read_text() == "mine"
    r = iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert not (out / "keep.txt").exists() and (out / "SHA256SUMS").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".paper")]  # no temporary leftovers


def test_experiment_without_runs(iris, tmp_path):
    import mlflow

    mlflow.MlflowClient(iris.uri).create_experiment("empty")
    r = iris.manifest("export", "--experiment", "empty", "--bundle", str(tmp_path / "b"))
    assert r.returncode == 4 and "has no runs" in r.stderr
    assert not (tmp_path / "b").exists()


def test_import_bundle_and_register(iris, tmp_path):
    import mlflow

    out = tmp_path / "paper"
    assert iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out), "--with-models").returncode == 0
    target = f"sqlite:///{tmp_path}/copy.db"
    r = iris.manifest("import", str(out), "--tracking-uri", target, "--experiment", "from-paper", "--register-model", "paper-model", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert len(ids) == 4
    client = mlflow.MlflowClient(target)
    versions = client.search_model_versions("name='paper-model'")
    assert len(versions) == 4
    assert {v.run_id for v in versions} == set(ids)

"""The README's tutorial, run as written; then the paper bundle it made, checked in detail."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.iris_env import Iris, make_iris
from support.paths import ROOT

from manifest.document.reader import load_path

#: ``make test`` sends each file to one worker (``--dist loadfile``), so the tutorial (about 150 s)
#: is followed once. (``--dist loadgroup`` does not group with pytest 9 and xdist 3.8: measured.)
pytestmark = pytest.mark.e2e

README = ROOT / "README.md"


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


@dataclass
class Tutorial:
    iris: Iris
    proc: subprocess.CompletedProcess[str]

    @property
    def paper(self) -> Path:
        return self.iris.workdir / "paper"


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Tutorial:
    """Every `sh` block of README.md, in order, in examples/iris of a fresh git checkout."""
    iris = make_iris(tmp_path_factory.mktemp("tutorial"))
    script = "set -euo pipefail\n" + "\n".join(sh_blocks())
    env = dict(iris.env(), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MLFLOW_TRACKING_URI")  # the tutorial uses MLflow's default store in the current directory
    proc = subprocess.run(["bash", "-c", script], cwd=iris.workdir, env=env, capture_output=True, text=True, timeout=900)
    iris.uri = f"sqlite:///{iris.workdir}/mlflow.db"
    return Tutorial(iris, proc)


def test_readme_has_the_two_commands_first():
    first_section = README.read_text().split("\n## ")[1]
    assert first_section.startswith("Two commands") and "make demo" in first_section and "make test" in first_section
    assert len(sh_blocks()) >= 6


def test_every_sh_block_runs(tutorial):
    proc = tutorial.proc
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
    assert (tutorial.iris.workdir / "requirements-run.txt").exists()
    assert "every metric within tolerance" in proc.stdout
    assert "aliases: [champion]" in proc.stdout
    assert "rolled back: champion -> 1" in proc.stdout and "copy: champion -> 1" in proc.stdout
    assert re.search(r"\| 10 \| 4 \| [0-9.]+ ± [0-9.]+ \| \[", proc.stdout)
    # the reviewer's step: the zipped, signed, anonymised bundle checked and re-run where it was unpacked
    assert (tutorial.iris.workdir / "review.zip").is_file()
    assert proc.stdout.count("every metric within tolerance") >= 2  # the 10-tree runs differ only in random_state: replicates, grouped (n=4), then a 95% CI


def test_bundle_contents(tutorial):
    out = tutorial.paper
    index = json.loads((out / "index.json").read_text())
    assert len(index["manifests"]) == 5
    for e in index["manifests"]:
        assert load_path(out / e["path"]).data["id"] == e["id"]
    md = (out / "results.md").read_text()
    assert md.splitlines()[0] == "| run | n_estimators | n | accuracy | accuracy 95% CI | f1_macro | f1_macro 95% CI | accuracy_by_trees | accuracy_by_trees 95% CI |"
    replicate_row = next(ln for ln in md.splitlines() if "replicates" in ln)
    assert "| 10 | 4 |" in replicate_row and "±" in replicate_row and re.search(r"\| \[[-0-9.]+, [-0-9.]+\] \|", replicate_row)
    assert "Runs that differ only in random_state are replicates" in md
    tex = (out / "results.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"$\pm$" in tex and r"n\_estimators" in tex
    assert r"\begin{table}" in tex and r"\caption{" in tex and r"\label{tab:results}" in tex and "Student's t" in tex
    assert (out / "plots" / "accuracy_by_trees.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "plots" / "accuracy.png").exists()  # one point per run: no history to plot
    assert (out / "plots" / "scalars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # final values by configuration, error bars
    readme = (out / "README.md").read_text()
    assert "manifest validate ." in readme and "sha256sum -c SHA256SUMS" in readme and "manifest import manifests/" in readme
    assert any(p.name == "model.skops" for p in (out / "manifests" / "models").rglob("*"))
    check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {ln.split("  ", 1)[1] for ln in (out / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert listed == on_disk
    v = tutorial.iris.manifest("validate", str(out))
    assert v.returncode == 0 and "1 bundle checked: checksums and index intact" in v.stdout, v.stdout


def test_the_registry_copy_has_the_same_versions_and_aliases(tutorial):
    """The tutorial's copy: five versions under the same numbers, each behind a run of the same
    name, champion rolled back to 1 on the copy as on the original, challenger on 2."""
    import mlflow

    def registry(uri: str) -> tuple[dict[int, str], dict[str, int]]:
        client = mlflow.MlflowClient(uri, registry_uri=uri)
        versions = {int(v.version): client.get_run(v.run_id).info.run_name for v in client.search_model_versions("name='iris-classifier'")}
        return versions, {a: int(v) for a, v in client.get_registered_model("iris-classifier").aliases.items()}

    source, copy = registry(tutorial.iris.uri), registry(f"sqlite:///{tutorial.iris.workdir}/copy.db")
    assert sorted(copy[0]) == [1, 2, 3, 4, 5]
    assert copy == source
    assert copy[1] == {"champion": 1, "challenger": 2}


def test_altered_or_missing_file_is_named(tutorial, tmp_path):
    out = tmp_path / "paper"
    shutil.copytree(tutorial.paper, out)
    with (out / "results.md").open("a") as fh:
        fh.write("tampered\n")
    v = tutorial.iris.manifest("validate", str(out))
    assert v.returncode == 1
    assert "results.md: sha256 is" in v.stdout and "SHA256SUMS says" in v.stdout
    victim = next((out / "manifests").glob("*.yaml"))
    victim.unlink()
    v = tutorial.iris.manifest("validate", str(out))
    assert v.returncode == 1
    rel = victim.relative_to(out).as_posix()
    assert f"{rel} is listed in SHA256SUMS but missing" in v.stdout and f"{rel} is listed in index.json but missing" in v.stdout


def test_existing_directory_refused_unless_force(tutorial, tmp_path):
    out = tmp_path / "paper"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = tutorial.iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out))
    assert r.returncode == 5 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert (out / "keep.txt").read_text() == "mine"
    r = tutorial.iris.manifest("export", "--experiment", "iris-random-forest", "--bundle", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert not (out / "keep.txt").exists() and (out / "SHA256SUMS").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".paper")]  # no temporary leftovers


def test_experiment_without_runs(tutorial, tmp_path):
    import mlflow

    mlflow.MlflowClient(tutorial.iris.uri).create_experiment("empty")
    r = tutorial.iris.manifest("export", "--experiment", "empty", "--bundle", str(tmp_path / "b"))
    assert r.returncode == 4 and "has no runs" in r.stderr
    assert not (tmp_path / "b").exists()


def test_make_demo_script_runs_end_to_end(tmp_path):
    """What `make demo` runs, with its working directory moved to a temporary one."""
    env = dict(os.environ, MANIFEST_DEMO_DIR=str(tmp_path / "demo"), MLFLOW_DISABLE_TELEMETRY="true")
    env.pop("MLFLOW_REGISTRY_URI", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run([sys.executable, str(README.parent / "examples" / "demo.py")], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 differences (≠)" in proc.stdout  # the imported run equals the original
    assert "rolled back: iris-classifier@champion -> version 1" in proc.stdout
    assert "1 bundle checked: checksums and index intact" in proc.stdout

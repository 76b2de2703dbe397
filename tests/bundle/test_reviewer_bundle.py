"""The issue's "done when", end to end on the reference example: a bundle made with
``--with-data --with-code --anonymize --archive --sign-key``, unzipped in a fresh directory outside
any repository, is validated, verified and reproduced there with the network removed
(``unshare -n``), passes each ecosystem's validator, its signatures verify and a one-byte change
is named, its page renders in Chromium, and no identity planted in the run's context survives.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.iris_env import Iris, make_iris
from support.mlflow_runs import git

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BIN = Path(sys.executable).parent
#: What the test plants in the run's context; none of it may reach a file the tool writes.
PLANTED_USER = "zoeplanted"
PLANTED_EMAIL = "zoe.planted@uni-planted.example"
PLANTED_REPO = "https://github.com/zoe-planted-lab/iris-secret.git"
AUTHOR = ("Ada Researcher", "0000-0002-1825-0097", "Example Lab")  # what examples/iris/train.py records
EPOCH = "1798761600"  # 2027-01-01


@dataclass
class Reviewer:
    iris: Iris
    bundle: Path  # as exported
    zip_path: Path
    fresh: Path  # the zip unpacked where a reviewer would
    pub: Path
    export: subprocess.CompletedProcess[str]
    home: Path

    def run(self, *args: str, offline: bool = True, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``manifest ARGS`` in the fresh directory, with no network when ``offline``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(MLFLOW_DISABLE_TELEMETRY="true", GIT_CEILING_DIRECTORIES=str(self.fresh.parent))
        argv = [str(BIN / "manifest"), *args]
        if offline:
            argv = ["unshare", "-n", *argv]
        return subprocess.run(argv, cwd=cwd or self.fresh, env=env, capture_output=True, text=True, timeout=timeout)


def _plant(iris: Iris) -> dict[str, str]:
    """The run's context carries a user name, an e-mail address, a home path and a repository URL."""
    git(iris.repo, "remote", "add", "origin", PLANTED_REPO)
    return {**iris.env(), "USER": PLANTED_USER, "LOGNAME": PLANTED_USER}


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory: pytest.TempPathFactory) -> Reviewer:
    home = tmp_path_factory.mktemp("home") / PLANTED_USER  # a home directory: its path names its user
    home.mkdir()
    iris = make_iris(home)
    env = _plant(iris)
    for seed in ("42", "7"):
        proc = subprocess.run([str(BIN / "python"), "train.py", "--random-state", seed, "--registered-model", ""], cwd=iris.workdir, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        run_id = proc.stdout.strip().splitlines()[-1]
        import mlflow

        cl = mlflow.MlflowClient(iris.uri)
        cl.set_tag(run_id, "contact", f"{PLANTED_EMAIL}, notes in {home}/notes.txt")
        cl.set_tag(run_id, "mlflow.note.content", f"Trained by {PLANTED_USER} on iris; questions to {PLANTED_EMAIL}.")
    key = home / "keys" / "author.key"
    key.parent.mkdir()
    keyenv = {**iris.env(), "MANIFEST_KEY_PASSPHRASE": "correct horse"}
    r = subprocess.run([str(BIN / "manifest"), "keygen", str(key), "--passphrase-env", "MANIFEST_KEY_PASSPHRASE"], cwd=home, env=keyenv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = home / "paper" / "bundle"
    out.parent.mkdir()
    export = subprocess.run(
        [str(BIN / "manifest"), "export", "--experiment", "iris-random-forest", "--bundle", str(out), "--with-models",
         "--with-data", "--with-code", "--repo", str(iris.repo), "--anonymize", "--archive", "--sign-key", str(key), "--passphrase-env", "MANIFEST_KEY_PASSPHRASE"],
        cwd=home, env={**keyenv, "SOURCE_DATE_EPOCH": EPOCH}, capture_output=True, text=True, timeout=600,
    )
    assert export.returncode == 0, export.stderr[-4000:]
    fresh = tmp_path_factory.mktemp("reviewer") / "unpacked"
    fresh.mkdir()
    with zipfile.ZipFile(out.with_name("bundle.zip")) as zf:
        zf.extractall(fresh)
    return Reviewer(iris, out, out.with_name("bundle.zip"), fresh, Path(f"{key}.pub"), export, home)


def test_the_export_says_what_it_left_as_it_is(reviewer: Reviewer) -> None:
    err = reviewer.export.stderr
    # the example's train.py names its author: that is copied code, reported and never rewritten
    assert re.search(r"warning: --anonymize: code/[0-9a-f]{12}\.tar\.gz \(copied as it is, so its digest holds\) contains: .*\bauthor\b", err), err
    assert "bundle: 2 manifests" in err and "1 source archive(s)" in err and "1 data copies" in err, err


def test_validate_offline(reviewer: Reviewer) -> None:
    r = reviewer.run("validate", ".")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 bundle checked: checksums and index intact" in r.stdout, r.stdout


def test_verify_offline_from_the_bundle_alone(reviewer: Reviewer) -> None:
    manifests = sorted(str(p.relative_to(reviewer.fresh)) for p in (reviewer.fresh / "manifests").glob("*.yaml"))
    assert len(manifests) == 2
    r = reviewer.run("verify", *manifests)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(re.findall(r"^PASS  data +iris: size and sha256 match \(\S*/unpacked/data/data/iris\.csv\)$", r.stdout, re.M)) == 2, r.stdout  # at the bundle's copy
    # anonymised: the commit object (it names the author) is left out, so the tree is proven and the commit id is not
    assert r.stdout.count("WARN  code         source archive:") == 2 and "has tree" in r.stdout, r.stdout
    assert "FAIL" not in r.stdout, r.stdout
    whole = reviewer.run("verify", ".")  # the bundle directory stands for its manifests
    assert whole.returncode == 0 and whole.stdout.count("verify: ") == 2, whole.stdout


def test_verify_names_a_changed_data_file(reviewer: Reviewer, tmp_path: Path) -> None:
    copy = tmp_path / "b"
    shutil.copytree(reviewer.fresh, copy)
    data = next((copy / "data").rglob("iris.csv"))
    data.write_bytes(data.read_bytes().replace(b"5.1", b"5.2", 1))
    manifest = next((copy / "manifests").glob("*.yaml"))
    r = subprocess.run(["unshare", "-n", str(BIN / "manifest"), "verify", str(manifest)], cwd=copy, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and re.search(r"^FAIL  data +iris: \S*/b/data/data/iris\.csv differs: sha256 [0-9a-f]{64} recorded, [0-9a-f]{64} found$", r.stdout, re.M), r.stdout


def test_verify_refuses_a_source_archive_that_is_not_the_commit(reviewer: Reviewer, tmp_path: Path) -> None:
    copy = tmp_path / "b"
    shutil.copytree(reviewer.fresh, copy)
    archive = next((copy / "code").glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]  # type: ignore[union-attr]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m, data in members:
            if data is not None and m.name.endswith("train.py"):
                data = data.replace(b"n_jobs=1", b"n_jobs=2")
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data is not None else None)
    archive.write_bytes(gzip.compress(buf.getvalue()))
    manifest = next((copy / "manifests").glob("*.yaml"))
    r = subprocess.run(["unshare", "-n", str(BIN / "manifest"), "verify", str(manifest)], cwd=copy, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "FAIL  code         source archive:" in r.stdout and "is not commit" in r.stdout, r.stdout


def test_reproduce_offline_from_the_bundle_alone(reviewer: Reviewer) -> None:
    manifest = sorted((reviewer.fresh / "manifests").glob("*.yaml"))[0]
    store = reviewer.fresh.parent / "reproductions.db"
    r = reviewer.run("reproduce", str(manifest.relative_to(reviewer.fresh)), "--yes", "--tracking-uri", f"sqlite:///{store}")
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "the bundle's source archive" in r.stderr and "has tree" in r.stderr, r.stderr
    assert re.search(r"^accuracy +\S+ +\S+ +0\.0 +exact +PASS$", r.stdout, re.M) and "every metric within tolerance" in r.stdout, r.stdout
    assert not (reviewer.fresh / "mlruns").exists() and not (reviewer.fresh / "mlartifacts").exists()  # the bundle stays as published


def test_the_zip_is_a_pure_function_of_the_bundle(reviewer: Reviewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    again = tmp_path / "again"
    shutil.copytree(reviewer.bundle, again)  # another directory, other inode times: the same bytes
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    from manifest.bundle.archive import write_zip

    write_zip(again, tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == reviewer.zip_path.read_bytes()
    with zipfile.ZipFile(reviewer.zip_path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2027, 1, 1, 0, 0, 0)}
    assert "ro-crate-metadata.json" in [i.filename for i in infos]


def test_signatures_verify_and_a_one_byte_change_is_named(reviewer: Reviewer, tmp_path: Path) -> None:
    r = reviewer.run("verify", ".", "--signature", "--key", str(reviewer.pub))
    assert r.returncode == 0, r.stdout + r.stderr
    copy = tmp_path / "b"
    shutil.copytree(reviewer.fresh, copy)
    table = copy / "results.md"
    raw = bytearray(table.read_bytes())
    raw[-2] = ord("x") if raw[-2] != ord("x") else ord("y")
    table.write_bytes(bytes(raw))
    r = subprocess.run(["unshare", "-n", str(BIN / "manifest"), "verify", str(copy), "--signature", "--key", str(reviewer.pub)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "results.md" in r.stdout + r.stderr, r.stdout + r.stderr
    key_text = Path(str(reviewer.pub)[: -len(".pub")]).read_bytes()
    for p in reviewer.fresh.rglob("*"):
        if p.is_file():
            assert key_text not in p.read_bytes(), p


def _every_text(root: Path) -> dict[str, str]:
    """Every file below ``root``, and every member of its archives, as text (bytes decoded leniently)."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        data = p.read_bytes()
        if rel.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for m in tar.getmembers():
                    out[f"{rel}!{m.name}"] = m.name + "\n" + (tar.extractfile(m).read().decode("utf-8", "replace") if m.isfile() else m.linkname)  # type: ignore[union-attr]
        out[rel] = data.decode("utf-8", "replace")
    return out


def test_no_planted_identity_survives(reviewer: Reviewer) -> None:
    planted = [PLANTED_USER, PLANTED_EMAIL, "zoe-planted-lab", "iris-secret", str(reviewer.home), *AUTHOR]
    texts = _every_text(reviewer.fresh)
    assert len(texts) > 20
    # copied as they are (their digests are the proof): the example's code names its author, and
    # MLflow's MLmodel names the store's artifact path; the export warned about each
    copied = ("code/", "data/", "manifests/models/")
    for rel, text in texts.items():
        for term in planted:
            if rel.startswith(copied):
                if term.lower() in text.lower():
                    top = rel.split("!")[0]
                    assert f"warning: --anonymize: {top} " in reviewer.export.stderr or any(f"warning: --anonymize: {top}" in line for line in reviewer.export.stderr.splitlines()), (term, rel, reviewer.export.stderr)
                continue
            assert term.lower() not in text.lower(), f"{term!r} survives in {rel}"
    # the plain home-path form too: no absolute path of the author's machine in any manifest
    for rel, text in texts.items():
        if rel.startswith("manifests/") and rel.endswith(".yaml"):
            assert "/tmp/" not in text and "/root" not in text, rel
    index = json.loads((reviewer.fresh / "index.json").read_text())
    assert index["anonymized"] is True and "tracking_uri" not in index


def test_each_ecosystem_validator_passes(reviewer: Reviewer) -> None:
    from support.ecosystems import check_citation, check_crate, check_cyclonedx, check_in_toto

    check_crate(reviewer.fresh)
    check_citation(reviewer.fresh / "CITATION.cff")
    statements = sorted((reviewer.fresh / "attestations").glob("*.json"))
    boms = sorted((reviewer.fresh / "boms").glob("*.json"))
    assert len(statements) == 2 and len(boms) == 2
    for p in statements:
        check_in_toto(p)
    for p in boms:
        check_cyclonedx(p)


def test_the_page_renders_offline_in_chromium(reviewer: Reviewer, tmp_path: Path) -> None:
    from support.ecosystems import render_page

    table = (reviewer.fresh / "results.md").read_text()
    cells = re.findall(r"\d\.\d+ ± \d\.\d+", table)
    assert cells, table
    text, requests, shot = render_page(reviewer.fresh / "index.html", tmp_path / "page.png")
    assert requests == [], requests
    assert shot.stat().st_size > 20_000
    for cell in cells:
        assert cell in text, cell
    from manifest.document.reader import load_path

    for run in (reviewer.fresh / "manifests").glob("*.yaml"):
        assert load_path(run).data["id"] in text  # each run has its section


def test_the_tool_inside_installs_offline_and_checks_the_bundle(reviewer: Reviewer, tmp_path: Path) -> None:
    wheels = list((reviewer.fresh / "tools").glob("experiment_manifest-*-py3-none-any.whl"))
    assert len(wheels) == 1
    readme = (reviewer.fresh / "README.md").read_text()
    assert f"pip install tools/{wheels[0].name}" in readme
    target = tmp_path / "site"
    pip = subprocess.run(["unshare", "-n", sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheels[0])], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    code = f"import sys; sys.path.insert(0, {str(target)!r}); import manifest; assert manifest.__file__.startswith({str(target)!r}), manifest.__file__; from manifest.cli import main; sys.argv = ['manifest', 'validate', '.']; main()"
    r = subprocess.run(["unshare", "-n", sys.executable, "-c", code], cwd=reviewer.fresh, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "1 bundle checked: checksums and index intact" in r.stdout, r.stdout + r.stderr

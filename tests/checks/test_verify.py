"""``manifest verify`` and ``manifest env``: real files, a real git repository, the installed entry point."""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.paths import minimal

from manifest.core.digests import path_digest
from manifest.document.reader import parse_text
from manifest.document.writer import dumps_yaml
from manifest.machine.system import packages, platform_info, python_info

EXE = Path(sys.executable).parent / "manifest"
LINE = re.compile(r"^(?P<verdict>PASS|WARN|FAIL)  (?P<category>data|code|environment) +(?P<subject>[^:]+): (?P<reason>.+)$")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def run(*args: str | Path, cwd: Path | None = None, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed entry point; git may not look above ``tmp`` for a repository."""
    env = {**os.environ, **GIT_ENV}
    if tmp is not None:
        env["GIT_CEILING_DIRECTORIES"] = str(tmp)
    proc = subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    return proc


def items(stdout: str) -> list[dict[str, str]]:
    """Parsed item lines; every line but the summary must be one."""
    lines = stdout.rstrip("\n").split("\n")
    assert re.fullmatch(r"verify: \d+ passed, \d+ warnings?, \d+ failed", lines[-1]), lines[-1]
    parsed = [LINE.match(ln) for ln in lines[:-1]]
    assert all(parsed), lines
    return [m.groupdict() for m in parsed if m]


def failures(stdout: str) -> list[dict[str, str]]:
    return [i for i in items(stdout) if i["verdict"] == "FAIL"]


def entry(name: str, uri: str, path: Path) -> dict[str, Any]:
    kind, size, digest = path_digest(path)
    return {"name": name, "role": "source", "uri": uri, "kind": kind, "size": size, "digest": digest}


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    """A git repository with a script, a data file and a data directory; a manifest describing it."""
    repo = tmp_path / "repo"
    (repo / "src" / "data" / "images").mkdir(parents=True)
    (repo / "src" / "train.py").write_text("print('training')\n")
    (repo / ".gitignore").write_text("data/\n")  # data is not versioned: changing it leaves the tree clean
    (repo / "src" / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n")
    (repo / "src" / "data" / "images" / "one.bin").write_bytes(b"\x00\x01\x02")
    (repo / "src" / "data" / "images" / "two.bin").write_bytes(b"\x03\x04")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    commit = git(repo, "rev-parse", "HEAD")
    data = minimal()
    data["data"] = [
        entry("train", "data/train.csv", repo / "src" / "data" / "train.csv"),
        entry("images", "data/images", repo / "src" / "data" / "images"),
        {"name": "frame", "role": "training", "kind": "memory", "rows": 2},
    ]
    data["code"] = {"commit": commit, "branch": "main", "dirty": False, "working_directory": "src"}
    data["environment"] = {"python": python_info(), "platform": platform_info(), "packages": packages()}
    out = tmp_path / "out"
    out.mkdir()
    path = out / "manifest.yaml"
    path.write_text(dumps_yaml(data))
    return {"tmp": tmp_path, "repo": repo, "commit": commit, "data": data, "path": path}


def rewrite(p: dict[str, Any], data: dict[str, Any], name: str = "manifest.yaml") -> Path:
    path = p["path"].parent / name
    path.write_text(dumps_yaml(data))
    return path


# --------------------------------------------------------------------------- verify


@pytest.mark.e2e
def test_untouched_checkout_passes(project):
    r = run("verify", project["path"], "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 0, r.stdout + r.stderr
    got = {(i["category"], i["subject"]): i for i in items(r.stdout)}
    assert got[("data", "train")]["verdict"] == "PASS"
    assert got[("data", "images")]["verdict"] == "PASS"
    assert got[("data", "frame")]["verdict"] == "WARN" and "nothing to check" in got[("data", "frame")]["reason"]
    assert got[("code", "commit")] == {"verdict": "PASS", "category": "code", "subject": "commit", "reason": f"HEAD is {project['commit']}"}
    assert got[("code", "working tree")]["verdict"] == "PASS"
    assert got[("environment", "python")]["verdict"] == "PASS"
    assert got[("environment", "platform")]["verdict"] == "PASS"
    n = len(project["data"]["environment"]["packages"])
    assert got[("environment", "packages")]["reason"].startswith(f"{n} of {n} packages match")
    assert r.stdout.splitlines()[-1] == f"verify: {len(got) - 1} passed, 1 warning, 0 failed"


@pytest.mark.e2e
def test_default_repo_is_the_current_directory(project):
    r = run("verify", project["path"], cwd=project["repo"] / "src", tmp=project["tmp"])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.e2e
def test_one_altered_byte_fails_naming_the_input(project):
    f = project["repo"] / "src" / "data" / "train.csv"
    raw = bytearray(f.read_bytes())
    raw[0] ^= 0x01
    f.write_bytes(bytes(raw))
    old = project["data"]["data"][0]["digest"]["sha256"]
    new = hashlib.sha256(raw).hexdigest()
    r = run("verify", project["path"], "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = [i for i in failures(r.stdout) if i["category"] == "data"]
    assert fail["subject"] == "train"
    assert f"sha256 {old} recorded, {new} found" in fail["reason"]
    assert "size" not in fail["reason"].split("differs:")[1]  # same size: only the digest differs
    assert r.stdout.splitlines()[-1].endswith("1 failed")


@pytest.mark.e2e
def test_changed_directory_and_missing_file(project):
    (project["repo"] / "src" / "data" / "images" / "three.bin").write_bytes(b"\x05")
    (project["repo"] / "src" / "data" / "train.csv").unlink()
    r = run("verify", project["path"], "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    fails = {i["subject"]: i["reason"] for i in failures(r.stdout) if i["category"] == "data"}
    assert "size 5 recorded, 6 found" in fails["images"] and "dirHash " in fails["images"]
    assert fails["train"].startswith("data/train.csv not found (looked at ")
    assert str(project["repo"] / "src" / "data" / "train.csv") in fails["train"]


@pytest.mark.e2e
def test_a_directory_input_is_recorded_and_checked_by_its_dirhash(project):
    """The tree digest of spec 6.3, written out with hashlib; without kind, dirHash says directory."""
    lines = "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in (("one.bin", b"\x00\x01\x02"), ("two.bin", b"\x03\x04")))
    images = project["data"]["data"][1]
    assert images["digest"] == {"dirHash": hashlib.sha256(lines.encode()).hexdigest()}
    data = copy.deepcopy(project["data"])
    del data["data"][1]["kind"]
    train = data["data"][0]
    del train["kind"]
    train["digest"] = images["digest"]  # a file recorded with a directory's digest
    r = run("verify", "--format", "json", rewrite(project, data), "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1, r.stderr
    by_name = {i["subject"]: i for i in json.loads(r.stdout)["items"] if i["category"] == "data"}
    assert by_name["images"]["verdict"] == "pass"
    assert by_name["train"]["verdict"] == "fail" and "is a file, the manifest records a directory" in by_name["train"]["reason"]


@pytest.mark.e2e
def test_different_head_names_both_commits(project):
    (project["repo"] / "src" / "train.py").write_text("print('training, differently')\n")
    git(project["repo"], "commit", "-q", "-am", "second")
    head = git(project["repo"], "rev-parse", "HEAD")
    r = run("verify", project["path"], "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = failures(r.stdout)
    assert (fail["category"], fail["subject"]) == ("code", "commit")
    assert fail["reason"] == f"HEAD is {head}, the manifest records {project['commit']}"


@pytest.mark.e2e
def test_unknown_commit_is_not_in_the_repository(project):
    data = copy.deepcopy(project["data"])
    data["code"]["commit"] = "0123456789abcdef0123456789abcdef01234567"
    r = run("verify", rewrite(project, data), "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = failures(r.stdout)
    assert fail["reason"] == f"commit 0123456789abcdef0123456789abcdef01234567 is not in the repository at {project['repo'].resolve()} (HEAD is {project['commit']})"


@pytest.mark.e2e
def test_dirty_checkout_of_a_clean_original_fails(project):
    (project["repo"] / "src" / "train.py").write_text("print('edited')\n")
    r = run("verify", project["path"], "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = failures(r.stdout)
    assert (fail["category"], fail["subject"]) == ("code", "working tree")
    assert fail["reason"] == "the checkout has uncommitted changes (src/train.py); the original ran on a clean tree"


@pytest.mark.e2e
def test_dirty_original_compares_the_diff(project):
    repo = project["repo"]
    (repo / "src" / "train.py").write_text("print('edited')\n")
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=repo, capture_output=True, check=True).stdout
    data = copy.deepcopy(project["data"])
    data["code"].update(dirty=True, diff_digest={"sha256": hashlib.sha256(diff).hexdigest()})
    path = rewrite(project, data, "dirty.yaml")
    r = run("verify", path, "--repo", repo, tmp=project["tmp"])
    assert r.returncode == 0, r.stdout
    assert "PASS  code         working tree: uncommitted changes match the recorded diff (sha256)" in r.stdout

    (repo / "src" / "train.py").write_text("print('edited again')\n")
    r = run("verify", path, "--repo", repo, tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = failures(r.stdout)
    assert fail["reason"].startswith("the uncommitted changes differ from the recorded diff")
    assert hashlib.sha256(diff).hexdigest() in fail["reason"]

    git(repo, "checkout", "--", "src/train.py")
    r = run("verify", path, "--repo", repo, tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = failures(r.stdout)
    assert "the original ran with uncommitted changes" in fail["reason"]


@pytest.mark.e2e
def test_data_root(project):
    mirror = project["tmp"] / "mirror"
    (mirror / "data").mkdir(parents=True)
    src = project["repo"] / "src" / "data"
    (mirror / "data" / "train.csv").write_bytes((src / "train.csv").read_bytes())
    (mirror / "elsewhere.csv").write_bytes((src / "train.csv").read_bytes())
    data = copy.deepcopy(project["data"])
    data["data"] = [
        {**data["data"][0]},  # relative: DATA_ROOT/data/train.csv
        {**data["data"][0], "name": "abs", "uri": "file:///no/such/dir/elsewhere.csv"},  # absolute: DATA_ROOT/<basename>
        {**data["data"][0], "name": "plain-abs", "uri": str(src / "train.csv")},  # absolute and present as it is
        {**data["data"][0], "name": "remote", "uri": "s3://bucket/prefix/elsewhere.csv"},  # remote: DATA_ROOT/<basename>
        {**data["data"][0], "name": "far", "uri": "https://example.org/far.csv"},  # remote and not mirrored
    ]
    path = rewrite(project, data, "rooted.yaml")
    r = run("verify", path, "--repo", project["repo"], "--data-root", mirror, tmp=project["tmp"])
    assert r.returncode == 0, r.stdout
    got = {i["subject"]: i for i in items(r.stdout) if i["category"] == "data"}
    assert got["train"]["verdict"] == "PASS" and str(mirror / "data" / "train.csv") in got["train"]["reason"]
    assert got["abs"]["verdict"] == "PASS" and str(mirror / "elsewhere.csv") in got["abs"]["reason"]
    assert got["plain-abs"]["verdict"] == "PASS"
    assert got["remote"]["verdict"] == "PASS"
    assert got["far"]["verdict"] == "WARN" and got["far"]["reason"].startswith("not checked: remote (https://)")

    (mirror / "data" / "train.csv").unlink()  # the data root takes precedence: no fallback to the checkout
    r = run("verify", path, "--repo", project["repo"], "--data-root", mirror, tmp=project["tmp"])
    assert r.returncode == 1
    assert [i["subject"] for i in failures(r.stdout)] == ["train"]

    r = run("verify", path, "--repo", project["repo"], tmp=project["tmp"])  # without it, file:///no/such/dir is missing
    assert [i["subject"] for i in failures(r.stdout)] == ["abs"]
    r = run("verify", path, "--data-root", project["tmp"] / "absent", tmp=project["tmp"])
    assert r.returncode == 2 and "absent" in r.stderr


@pytest.mark.e2e
def test_relative_uri_falls_back_to_the_manifest_directory(project):
    (project["path"].parent / "data").mkdir()
    (project["path"].parent / "data" / "train.csv").write_bytes((project["repo"] / "src" / "data" / "train.csv").read_bytes())
    data = copy.deepcopy(project["data"])
    data["code"]["working_directory"] = "elsewhere"
    r = run("verify", rewrite(project, data), "--repo", project["repo"], tmp=project["tmp"])
    got = {i["subject"]: i for i in items(r.stdout) if i["category"] == "data"}
    assert got["train"]["verdict"] == "PASS" and str(project["path"].parent / "data" / "train.csv") in got["train"]["reason"]
    assert got["images"]["verdict"] == "FAIL"


@pytest.mark.e2e
def test_missing_and_different_packages(project):
    data = copy.deepcopy(project["data"])
    pkgs = data["environment"]["packages"]
    installed_click = pkgs["click"]
    pkgs["click"] = "0.0.1"
    pkgs["surely-not-installed-xyz"] = "1.0"
    r = run("verify", rewrite(project, data), "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    fails = {i["subject"]: i["reason"] for i in failures(r.stdout)}
    assert fails["package click"] == f"click 0.0.1 recorded, {installed_click} installed"
    assert fails["package surely-not-installed-xyz"] == "surely-not-installed-xyz 1.0 recorded, not installed"
    assert fails["packages"] == f"{len(pkgs) - 2} of {len(pkgs)} packages match"
    assert len(fails) == 3


@pytest.mark.e2e
def test_json_output(project):
    data = copy.deepcopy(project["data"])
    data["environment"]["packages"]["click"] = "0.0.1"
    r = run("verify", rewrite(project, data), "--repo", project["repo"], "--format", "json", tmp=project["tmp"])
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False
    assert all(set(i) == {"category", "subject", "verdict", "reason", "expected", "actual"} for i in out["items"])
    verdicts = [i["verdict"] for i in out["items"]]
    assert out["summary"] == {"passed": verdicts.count("pass"), "warnings": verdicts.count("warn"), "failed": verdicts.count("fail"), "total": len(verdicts)}
    by = {(i["category"], i["subject"]): i for i in out["items"]}
    assert by[("environment", "package click")]["expected"] == "0.0.1"
    assert by[("environment", "package click")]["actual"] == importlib.metadata.version("click")
    assert by[("code", "commit")]["expected"] == by[("code", "commit")]["actual"] == project["commit"]
    train = by[("data", "train")]
    assert train["verdict"] == "pass" and train["expected"] == train["actual"] == {"size": project["data"]["data"][0]["size"], "digest": project["data"]["data"][0]["digest"]}


@pytest.mark.e2e
def test_no_git_repository(project):
    empty = project["tmp"] / "not-a-repo"
    empty.mkdir()
    r = run("verify", project["path"], "--repo", empty, tmp=project["tmp"])
    assert r.returncode == 1
    (fail,) = [i for i in failures(r.stdout) if i["category"] == "code"]
    assert (fail["category"], fail["subject"]) == ("code", "repository")
    assert fail["reason"].startswith(f"no git repository at {empty}")
    data = copy.deepcopy(project["data"])
    del data["code"]
    data["data"] = []
    r = run("verify", rewrite(project, data, "nocode.yaml"), "--repo", empty, tmp=project["tmp"])
    assert r.returncode == 0, r.stdout
    assert f"WARN  code         commit: nothing to check: the manifest records no commit (no git repository at {empty})" in r.stdout


@pytest.mark.e2e
def test_invalid_manifest_exit_1(project):
    data = copy.deepcopy(project["data"])
    del data["run"]
    r = run("verify", rewrite(project, data, "invalid.yaml"), "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    assert r.stdout == ""
    assert "invalid.yaml" in r.stderr and "run" in r.stderr and "required" in r.stderr


@pytest.mark.e2e
def test_usage_errors_exit_2(project):
    r = run("verify", project["tmp"] / "absent.yaml", tmp=project["tmp"])
    assert r.returncode == 2 and "no such file or directory" in r.stderr
    r = run("verify", project["path"], "--format", "xml", tmp=project["tmp"])
    assert r.returncode == 2
    r = run("env", project["tmp"] / "absent.yaml", "--format", "conda", tmp=project["tmp"])
    assert r.returncode == 2
    r = run("env", project["path"], "--format", "pipfile", tmp=project["tmp"])
    assert r.returncode == 2


# --------------------------------------------------------------------------- env


ENV_PACKAGES = {"scikit-learn": "1.5.2", "numpy": "2.1.3", "Jinja2": "3.1.4", "pip": "24.0", "zipp": "3.20.0"}


@pytest.fixture
def env_manifest(tmp_path: Path) -> Path:
    data = minimal()
    data["environment"] = {"python": {"version": "3.11.7", "implementation": "CPython"}, "packages": dict(ENV_PACKAGES)}
    path = tmp_path / "env.yaml"
    path.write_text(dumps_yaml(data))
    return path


@pytest.mark.e2e
def test_env_requirements(env_manifest):
    r = run("env", env_manifest, "--format", "requirements")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("# Environment of run minimal (urn:uuid:00000000-0000-4000-8000-000000000000)")
    assert lines[1:] == ["Jinja2==3.1.4", "numpy==2.1.3", "pip==24.0", "scikit-learn==1.5.2", "zipp==3.20.0"]


@pytest.mark.e2e
@pytest.mark.parametrize(("fmt", "expected"), [
    ("python_env", {
        "python": "3.11.7",
        "build_dependencies": ["pip==24.0", "setuptools", "wheel"],
        "dependencies": ["Jinja2==3.1.4", "numpy==2.1.3", "scikit-learn==1.5.2", "zipp==3.20.0"],
    }),
    ("conda", {
        "name": "minimal",
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11.7", "pip", {"pip": ["Jinja2==3.1.4", "numpy==2.1.3", "pip==24.0", "scikit-learn==1.5.2", "zipp==3.20.0"]}],
    }),
])
def test_env_yaml_formats(env_manifest, fmt, expected):
    r = run("env", env_manifest, "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert parse_text(r.stdout, "yaml").data == expected


@pytest.mark.e2e
def test_env_output_file(env_manifest, tmp_path: Path):
    target = tmp_path / "sub" / "requirements.txt"
    r = run("env", env_manifest, "--format", "requirements", "-o", target)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert target.read_text() == run("env", env_manifest, "--format", "requirements").stdout
    assert [p.name for p in target.parent.iterdir()] == ["requirements.txt"]  # no temporary file left


@pytest.mark.e2e
def test_env_without_packages(tmp_path: Path):
    path = tmp_path / "bare.yaml"
    path.write_text(dumps_yaml(minimal()))
    for fmt in ("requirements", "python_env", "conda"):
        r = run("env", path, "--format", fmt)
        assert r.returncode == 1
        assert r.stdout == ""
        assert "the manifest records no packages" in r.stderr


@pytest.mark.e2e
def test_env_refuses_what_is_not_a_pin(tmp_path: Path):
    data = minimal()
    data["environment"] = {"packages": {"numpy": "2.1.3\n--extra-index-url http://evil.example", "ok": "1.0"}}
    path = tmp_path / "odd.yaml"
    path.write_text(dumps_yaml(data))
    r = run("env", path, "--format", "requirements")
    assert r.returncode == 1 and r.stdout == ""
    assert "/environment/packages/numpy" in r.stderr and "not a distribution name and an exact version" in r.stderr


@pytest.mark.e2e
def test_env_python_env_needs_a_python_version(tmp_path: Path):
    data = minimal()
    data["environment"] = {"packages": {"numpy": "2.1.3"}}
    path = tmp_path / "nopython.yaml"
    path.write_text(dumps_yaml(data))
    r = run("env", path, "--format", "python_env")
    assert r.returncode == 1 and "records no Python version" in r.stderr
    r = run("env", path, "--format", "conda")
    assert r.returncode == 0 and parse_text(r.stdout, "yaml").data["dependencies"][0] == "python"


# --------------------------------------------------------------------------- Python API


def test_api(project):
    from manifest.checks.verify import VerifyReport, check_packages, verify
    from manifest.core.problems import InvalidManifest
    from manifest.document.reader import load_path

    report = verify(project["path"], repo=project["repo"])
    assert isinstance(report, VerifyReport) and report.ok
    assert [(i.category, i.subject, i.verdict) for i in report.items][:5] == [
        ("data", "train", "pass"),
        ("data", "images", "pass"),
        ("data", "frame", "warn"),
        ("code", "commit", "pass"),
        ("code", "working tree", "pass"),
    ]
    assert verify(load_path(project["path"]), repo=project["repo"]).to_dict() == report.to_dict()

    data = copy.deepcopy(project["data"])
    running = platform.python_version().split(".")
    data["environment"]["python"]["version"] = ".".join(running[:2] + ["999"])
    data["environment"]["python"]["implementation"] = "PyPy"
    data["environment"]["platform"]["architecture"] = "riscv128"
    got = {i.subject: i for i in verify(rewrite(project, data), repo=project["repo"]).items if i.category == "environment"}
    assert got["python"].verdict == "warn" and got["python implementation"].verdict == "warn" and got["platform"].verdict == "warn"
    data["environment"]["python"]["version"] = "2.7.18"
    report = verify(rewrite(project, data), repo=project["repo"])
    assert not report.ok and [i.subject for i in report.items if i.verdict == "fail"] == ["python"]

    items = check_packages({"Scikit_Learn": "1.5.2", "numpy": "2.1.3"}, {"scikit-learn": "1.5.2", "numpy": "2.0.0"})
    assert [(i.subject, i.verdict, i.reason) for i in items] == [
        ("package numpy", "fail", "numpy 2.1.3 recorded, 2.0.0 installed"),
        ("packages", "fail", "1 of 2 packages match"),
    ]

    del data["run"]
    with pytest.raises(InvalidManifest):
        verify(rewrite(project, data, "invalid.yaml"), repo=project["repo"])


@pytest.mark.e2e
def test_verify_and_env_do_not_import_mlflow(project, env_manifest):
    probe = (
        "import sys\n"
        "from manifest.cli import main\n"
        "codes = []\n"
        "for args in (sys.argv[1:4], sys.argv[4:]):\n"
        "    try:\n"
        "        main(args)\n"
        "        codes.append(0)\n"
        "    except SystemExit as exc:\n"
        "        codes.append(exc.code or 0)\n"
        "print(codes)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe, "verify", str(project["path"]), f"--repo={project['repo']}", "env", str(env_manifest), "--format=conda"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    *_, codes, mlflow_modules = r.stdout.strip().splitlines()
    assert codes == "[0, 0]", r.stdout + r.stderr  # verify passes on the untouched project; env writes the file
    assert mlflow_modules == "[]"


@pytest.mark.e2e
def test_several_manifests_in_one_call_and_a_hint_when_data_is_elsewhere(project):
    (project["repo"] / "src" / "data" / "train.csv").unlink()
    copy = rewrite(project, project["data"], "copy.yaml")
    r = run("verify", project["path"], copy, "--repo", project["repo"], tmp=project["tmp"])
    assert r.returncode == 1
    summaries = [ln for ln in r.stdout.splitlines() if ln.startswith("verify: ")]
    assert len(summaries) == 2 and all(s.endswith("1 failed") for s in summaries), r.stdout
    hints = [ln for ln in r.stderr.splitlines() if ln.startswith("manifest: hint: ")]
    assert len(hints) == 2 and "--data-root DIR" in hints[0] and "--repo" not in hints[0], r.stderr

"""`manifest verify` and `manifest reproduce`, shown on the reference example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlflow
import pytest
from support.iris_env import Iris, make_iris
from support.mlflow_runs import git

from manifest.document.reader import load_path
from manifest.document.writer import dumps_yaml

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> tuple[Iris, Path]:
    env = make_iris(tmp_path_factory.mktemp("iris"))
    run_id = env.train()
    out = env.home / "exported" / "m.yaml"
    out.parent.mkdir()
    r = env.manifest("export", run_id, "-o", str(out))
    assert r.returncode == 0, r.stderr
    return env, out


def test_recorded_code_points_at_the_checkout(iris):
    env, out = iris
    code = load_path(out).data["code"]
    assert code["dirty"] is False and code["working_directory"] == "examples/iris" and code["entry_point"] == "train.py"
    assert code["command"] == ["python", "train.py"]
    assert code["commit"] == git(env.repo, "rev-parse", "HEAD")


def test_verify_passes_on_the_untouched_checkout(iris):
    env, out = iris
    r = env.manifest("verify", str(out), "--repo", str(env.repo))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^PASS\s+data\s+iris: ", r.stdout, re.M) and "FAIL" not in r.stdout, r.stdout


def test_verify_fails_naming_an_altered_data_file(iris, tmp_path):
    env, out = iris
    data = env.workdir / "data" / "iris.csv"
    original = data.read_bytes()
    try:
        data.write_bytes(original[:100] + (b"9" if original[100:101] != b"9" else b"8") + original[101:])
        r = env.manifest("verify", str(out), "--repo", str(env.repo), "--format", "json")
        assert r.returncode == 1
        items = json.loads(r.stdout)["items"]
        failed = [i for i in items if i["verdict"] == "fail"]
        assert any(i["category"] == "data" and i["subject"] == "iris" for i in failed), failed
        text = env.manifest("verify", str(out), "--repo", str(env.repo)).stdout
        assert re.search(r"^FAIL\s+data\s+iris: ", text, re.M), text
    finally:
        data.write_bytes(original)


def test_reproduce_passes(iris, tmp_path):
    env, out = iris
    r = env.manifest("reproduce", str(out), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["ok"] is True
    assert {m["metric"]: m["verdict"] for m in report["metrics"]} == {"accuracy": "pass", "accuracy_by_trees": "pass", "f1_macro": "pass"}
    import mlflow

    new = mlflow.MlflowClient(env.uri).get_run(report["run_id"])
    assert new.data.tags["manifest.derived_from.relation"] == "reproduced"
    assert new.data.tags["manifest.derived_from.id"] == load_path(out).data["id"]


def test_reproduce_fails_naming_the_metric_that_moved(iris, tmp_path):
    env, out = iris
    data = load_path(out).data
    data["params"]["test_size"] = 0.5
    copy = tmp_path / "changed.yaml"
    copy.write_text(dumps_yaml(data))
    r = env.manifest("reproduce", str(copy), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == 1, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    acc = next(ln for ln in lines if ln.startswith("accuracy "))
    assert acc.split()[-1] == "FAIL" and "0.98666" in acc
    assert "not reproduced: accuracy" in lines[-1]


def test_tolerance_lets_a_small_difference_pass(iris, tmp_path):
    env, out = iris
    data = load_path(out).data
    data["params"]["test_size"] = 0.5
    for name in ("accuracy", "f1_macro", "accuracy_by_trees"):
        data["metrics"][name]["tolerance"] = {"absolute": 0.05}
    copy = tmp_path / "tolerant.yaml"
    copy.write_text(dumps_yaml(data))
    r = env.manifest("reproduce", str(copy), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert "abs 0.05" in r.stdout


@pytest.mark.parametrize("case", ["no-git", "unknown-commit", "entry-point-fails", "metric-missing", "dirty-without-diff"])
def test_failure_modes(iris, tmp_path, case):
    env, out = iris
    data = load_path(out).data
    repo = env.repo
    expect = 7
    if case == "no-git":
        repo = tmp_path / "plain"
        repo.mkdir()
        data["code"].pop("repository", None)
    elif case == "unknown-commit":
        data["code"]["commit"] = "0" * 40
    elif case == "entry-point-fails":
        data["code"]["command_template"] = ["python", "does_not_exist.py"]
    elif case == "metric-missing":
        data["metrics"]["recall"] = {"value": 0.9}
        expect = 1
    elif case == "dirty-without-diff":
        data["code"]["dirty"] = True
        data["code"]["diff_digest"] = {"sha256": "0" * 64}
    copy = tmp_path / "m.yaml"
    copy.write_text(dumps_yaml(data))
    r = env.manifest("reproduce", str(copy), "--yes", "--repo", str(repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == expect, (r.returncode, r.stdout, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    message = r.stderr.strip().splitlines()[-1] if expect == 7 else r.stdout
    needle = {"no-git": "is not a git repository", "unknown-commit": "is not in the repository", "entry-point-fails": "failed with exit code",
              "metric-missing": "recall", "dirty-without-diff": "uncommitted changes"}[case]
    assert needle in message, message


def test_env_writes_an_installable_environment(iris, tmp_path):
    env, out = iris
    r = env.manifest("env", str(out), "--format", "requirements")
    assert r.returncode == 0, r.stderr
    assert "scikit-learn==" in r.stdout and "mlflow==" in r.stdout


def _with_command(iris, tmp_path: Path, code: str, metric: str, name: str = "probe") -> Path:
    """The reference run's manifest running ``python -c CODE`` instead, with one metric, 0.0."""
    env, out = iris
    data = load_path(out).data
    data["code"].pop("command_template", None)
    data["code"]["command"] = ["python", "-c", code]
    data["params"] = {}
    data["metrics"] = {metric: {"value": 0.0}}
    copy = tmp_path / f"{name}.yaml"
    copy.write_text(dumps_yaml(data))
    return copy


def _probe(iris, tmp_path: Path) -> Path:
    """The reference run's manifest with a command that records whether a secret reached it."""
    return _with_command(iris, tmp_path, "import os, mlflow; mlflow.log_metric('secret_seen', float('MANIFEST_TEST_SECRET' in os.environ))", "secret_seen")


def _reproduce(env: Iris, *args: str, secret: bool = True) -> subprocess.CompletedProcess[str]:
    """``manifest reproduce`` with no terminal on standard input, as in CI."""
    child = dict(env.env(), **({"MANIFEST_TEST_SECRET": "hunter2"} if secret else {}))
    return subprocess.run([str(Path(sys.executable).parent / "manifest"), "reproduce", *args], cwd=env.home, env=child, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)


def test_without_a_terminal_and_without_yes_nothing_runs(iris, tmp_path):
    env, out = iris
    before = _run_count(env)
    r = _reproduce(env, str(out), "--repo", str(env.repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == 2, r.stderr
    assert "--yes" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "work").exists() and _run_count(env) == before


def test_the_plan_is_printed_and_the_environment_holds_no_secret(iris, tmp_path):
    env, out = iris
    probe = _probe(iris, tmp_path)
    r = _reproduce(env, str(probe), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    commit = load_path(out).data["code"]["commit"]
    assert f"reproduce: repository {env.repo} at {commit}" in r.stderr
    assert "reproduce: working directory <checkout>/examples/iris" in r.stderr
    command = json.dumps(["python", "-c", "import os, mlflow; mlflow.log_metric('secret_seen', float('MANIFEST_TEST_SECRET' in os.environ))"])
    assert f"reproduce: command {command} (run without a shell)" in r.stderr
    assert "MANIFEST_TEST_SECRET" not in r.stderr.split("reproduce: environment ", 1)[1].splitlines()[0]
    assert json.loads(r.stdout)["metrics"][0]["reproduced"] == 0.0


def test_pass_env_gives_the_command_a_variable(iris, tmp_path):
    env, _ = iris
    probe = _probe(iris, tmp_path)
    r = _reproduce(env, str(probe), "--yes", "--pass-env", "MANIFEST_TEST_SECRET", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json")
    assert r.returncode == 1, r.stdout + r.stderr[-2000:]  # the recorded 0.0 is not reproduced: the variable got through
    assert json.loads(r.stdout)["metrics"][0]["reproduced"] == 1.0
    assert "MANIFEST_TEST_SECRET" in r.stderr.split("reproduce: environment ", 1)[1].splitlines()[0]


@pytest.mark.parametrize("wd", ["/tmp", "examples/../../.."])
def test_a_working_directory_outside_the_checkout_is_refused_before_anything_runs(iris, tmp_path, wd):
    env, out = iris
    data = load_path(out).data
    data["code"]["working_directory"] = wd
    copy = tmp_path / "wd.yaml"
    copy.write_text(dumps_yaml(data))
    r = _reproduce(env, str(copy), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == 1, r.stderr  # an invalid manifest: the rule unsafe-path
    assert "/code/working_directory: path" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "work").exists()


def test_a_diff_that_is_a_symbolic_link_is_refused(iris, tmp_path):
    env, out = iris
    data = load_path(out).data
    (tmp_path / "real.diff").write_bytes(b"")
    (tmp_path / "m.diff").symlink_to(tmp_path / "real.diff")
    data["code"].update(dirty=True, diff={"path": "m.diff", "size": 0, "digest": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}})
    copy = tmp_path / "m.yaml"
    copy.write_text(dumps_yaml(data))
    r = _reproduce(env, str(copy), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"))
    assert r.returncode == 7, r.stderr
    assert "is a symbolic link" in r.stderr


def _run_count(env: Iris) -> int:
    client = mlflow.MlflowClient(env.uri)
    return len(client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=1000))


def test_a_reproduction_can_go_to_another_experiment(iris, tmp_path):
    env, out = iris
    probe = _probe(iris, tmp_path)
    source = load_path(out).data["provenance"]["source"]["experiment_name"]
    client = mlflow.MlflowClient(env.uri)
    before = len(client.search_runs([client.get_experiment_by_name(source).experiment_id]))
    r = _reproduce(env, str(probe), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json", "--experiment", "checks")
    assert r.returncode == 0, r.stderr[-2000:]
    run = client.get_run(json.loads(r.stdout)["run_id"])
    assert client.get_experiment(run.info.experiment_id).name == "checks"
    assert run.data.tags["manifest.derived_from.relation"] == "reproduced"
    assert len(client.search_runs([client.get_experiment_by_name(source).experiment_id])) == before  # the source experiment's n is unchanged


def test_an_interrupted_reproduction_is_marked_killed(iris, tmp_path):
    import signal
    import time

    env, _ = iris
    slow = _with_command(iris, tmp_path, "import time; time.sleep(120)", "never", "slow")
    child = dict(env.env())
    proc = subprocess.Popen([str(Path(sys.executable).parent / "manifest"), "reproduce", str(slow), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--experiment", "interrupted"],
                            cwd=env.home, env=child, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = mlflow.MlflowClient(env.uri)
    deadline = time.monotonic() + 120
    runs: list[Any] = []
    while time.monotonic() < deadline and not runs:
        exp = client.get_experiment_by_name("interrupted")
        runs = client.search_runs([exp.experiment_id]) if exp else []
        time.sleep(0.3)
    assert runs, proc.communicate(timeout=60)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err, err
    run = client.get_run(runs[0].info.run_id)
    assert run.info.status == "KILLED" and run.data.tags["manifest.reproduce.error"] == "interrupted"

"""`manifest verify` and `manifest reproduce`, shown on the reference example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from support.iris_env import Iris, make_iris
from support.mlflow_runs import git

from manifest.bundle.tables import is_reproduction, results_table
from manifest.document.canonical import manifest_digest
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
    """The re-run is its own run: in '<source experiment> (reproductions)' of the target store,
    tagged as a reproduction of the source run; the source's experiment keeps its run count."""
    env, out = iris
    source = load_path(out).data
    client = mlflow.MlflowClient(env.uri)
    source_exp = client.get_experiment_by_name(source["provenance"]["source"]["experiment_name"])
    before = len(client.search_runs([source_exp.experiment_id]))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = _reproduce(env, str(out), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json", extra={"TMPDIR": str(tmp)})
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["ok"] is True
    assert {m["metric"]: m["verdict"] for m in report["metrics"]} == {"accuracy": "pass", "accuracy_by_trees": "pass", "f1_macro": "pass"}
    new = client.get_run(report["run_id"])
    assert report["experiment"] == "iris-random-forest (reproductions)"
    assert client.get_experiment(new.info.experiment_id).name == "iris-random-forest (reproductions)"
    assert new.info.status == "FINISHED"
    tags = new.data.tags
    assert tags["manifest.derived_from.relation"] == "reproduced"
    assert tags["manifest.derived_from.id"] == tags["manifest.reproduces"] == source["id"]
    assert tags["manifest.source.run_id"] == source["provenance"]["source"]["run_id"]
    assert tags["manifest.source.experiment"] == "iris-random-forest"
    assert new.outputs.model_outputs, "the re-run's model is copied too"
    assert set(new.data.metrics) >= set(source["metrics"])
    assert len(client.search_runs([source_exp.experiment_id])) == before  # the source experiment's n is unchanged
    # the private store (its artifacts too) and every temporary file are gone
    assert list(tmp.iterdir()) == [] and not list((tmp_path / "work").rglob("mlruns"))
    assert "private store" in r.stderr and "copied the re-run" in r.stderr

    # exported, it is still a reproduction, which bundle tables never count as a replicate
    again = tmp_path / "again.yaml"
    r = env.manifest("export", report["run_id"], "-o", str(again))
    assert r.returncode == 0, r.stderr
    data = load_path(again).data
    assert data["provenance"]["derived_from"]["relation"] == "reproduced" and data["provenance"]["derived_from"]["id"] == source["id"]
    assert data["provenance"]["derived_from"]["digest"]["sha256"] == manifest_digest(source)["sha256"]
    assert is_reproduction(data) and not is_reproduction(source)
    table = results_table([source, data], ["accuracy"])
    assert [row["n"] for row in table["rows"]] == [1] and table["rows"][0]["run"] == source["name"]


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


def _reproduce(env: Iris, *args: str, secret: bool = True, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``manifest reproduce`` with no terminal on standard input, as in CI."""
    child = dict(env.env(), **({"MANIFEST_TEST_SECRET": "hunter2"} if secret else {}), **(extra or {}))
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


def test_a_reproduction_can_go_to_any_experiment_though_the_script_sets_its_own(iris, tmp_path):
    """train.py calls mlflow.set_experiment('iris-random-forest'): it logs into the private store's
    experiment of that name, and the re-run is copied into the experiment asked for."""
    env, out = iris
    assert "mlflow.set_experiment(args.experiment)" in (env.workdir / "train.py").read_text()
    source = load_path(out).data["provenance"]["source"]["experiment_name"]
    client = mlflow.MlflowClient(env.uri)
    before = len(client.search_runs([client.get_experiment_by_name(source).experiment_id]))
    r = _reproduce(env, str(out), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json", "--experiment", "checks")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    run = client.get_run(report["run_id"])
    assert client.get_experiment(run.info.experiment_id).name == report["experiment"] == "checks"
    assert run.data.tags["manifest.derived_from.relation"] == "reproduced"
    assert all(m["verdict"] == "pass" for m in report["metrics"])
    assert len(client.search_runs([client.get_experiment_by_name(source).experiment_id])) == before  # the source experiment's n is unchanged


def test_a_failed_command_is_copied_as_failed_and_leaves_no_temporary_files(iris, tmp_path):
    env, _ = iris
    failing = _with_command(iris, tmp_path, "import mlflow, sys; mlflow.log_metric('partial', 0.5); sys.exit(3)", "partial", "failing")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = _reproduce(env, str(failing), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--experiment", "failures", extra={"TMPDIR": str(tmp)})
    assert r.returncode == 7, r.stderr[-2000:]
    message = r.stderr.strip().splitlines()[-1]
    assert "failed with exit code 3" in message and "of experiment 'failures' marked FAILED" in message, message
    client = mlflow.MlflowClient(env.uri)
    [run] = client.search_runs([client.get_experiment_by_name("failures").experiment_id])
    assert run.info.run_id in message
    assert run.info.status == "FAILED" and run.data.tags["manifest.reproduce.error"] == "exit code 3"
    assert run.data.tags["manifest.derived_from.relation"] == "reproduced" and run.data.metrics == {"partial": 0.5}
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_an_interrupted_reproduction_is_copied_as_killed(iris, tmp_path, sig):
    """SIGTERM to ``manifest reproduce``, or Ctrl-C (SIGINT to the whole process group, as a
    terminal sends it): the command is stopped and the re-run reaches the target store KILLED,
    with what it logged before; the private store is gone."""
    import os
    import signal
    import time

    env, _ = iris
    code = "import mlflow, time; mlflow.log_metric('before', 1.0); print('sleeping now', flush=True); time.sleep(120)"
    slow = _with_command(iris, tmp_path, code, "never", "slow")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    experiment = f"interrupted {sig}"
    child = dict(env.env(), TMPDIR=str(tmp))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "manifest"), "reproduce", str(slow), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--experiment", experiment],
                            cwd=env.home, env=child, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen: list[str] = []
    deadline = time.monotonic() + 180
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.strip() == "sleeping now":  # the command's own output (its argv names it too)
            break
    assert seen and seen[-1].strip() == "sleeping now", "".join(seen) + proc.communicate(timeout=60)[1]
    time.sleep(0.5)
    if sig == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: the command gets it too
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=180)
    err = "".join(seen) + err
    assert proc.returncode == (143 if sig == "SIGTERM" else 130) and "Traceback" not in err, err
    client = mlflow.MlflowClient(env.uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, err
    [run] = client.search_runs([exp.experiment_id])
    assert run.info.status == "KILLED" and run.data.tags["manifest.reproduce.error"] == "interrupted"
    assert run.data.tags["manifest.derived_from.relation"] == "reproduced" and run.data.metrics == {"before": 1.0}
    assert f"run {run.info.run_id} of experiment '{experiment}' marked KILLED" in err
    assert list(tmp.iterdir()) == []


def test_artifacts_and_models_are_copied_the_registry_is_left_alone(iris, tmp_path):
    """A source in ``Default``: the private store's Default experiment keeps its files in the
    private directory too. The re-run's artifacts and model reach the target; the model the
    script registered does not (registrations stay in the private store)."""
    env, _ = iris
    code = ("import mlflow; from sklearn.dummy import DummyClassifier; mlflow.log_text('hello', 'notes/a.txt'); "
            "mlflow.sklearn.log_model(DummyClassifier().fit([[0], [1]], [0, 1]), name='model', registered_model_name='reproduce-probe', serialization_format='cloudpickle'); "
            "mlflow.log_metric('m', 0.0)")
    data = load_path(_with_command(iris, tmp_path, code, "m", "artifact")).data
    data["provenance"]["source"]["experiment_name"] = "Default"
    copy = tmp_path / "default.yaml"
    copy.write_text(dumps_yaml(data))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = _reproduce(env, str(copy), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json", extra={"TMPDIR": str(tmp)})
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    assert report["experiment"] == "Default (reproductions)"
    client = mlflow.MlflowClient(env.uri)
    assert [a.path for a in client.list_artifacts(report["run_id"], "notes")] == ["notes/a.txt"]
    [model] = client.get_run(report["run_id"]).outputs.model_outputs
    assert client.get_logged_model(model.model_id).name == "model"
    assert client.search_registered_models("name='reproduce-probe'") == []
    assert list(tmp.iterdir()) == [] and not list((tmp_path / "work").rglob("mlruns"))


def test_a_reproduction_lands_on_a_real_server_as_its_own_run(iris, tmp_path, mlflow_server):
    """Into a real `mlflow server`: the re-run is copied over REST into '<source experiment>
    (reproductions)', tagged as a reproduction, and its export never counts as a replicate."""
    env, out = iris
    source = load_path(out).data
    r = _reproduce(env, str(out), "--yes", "--repo", str(env.repo), "--workdir", str(tmp_path / "work"), "--format", "json", "--tracking-uri", mlflow_server.uri)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    client = mlflow.MlflowClient(mlflow_server.uri)
    new = client.get_run(report["run_id"])
    assert client.get_experiment(new.info.experiment_id).name == "iris-random-forest (reproductions)"
    assert new.info.status == "FINISHED" and new.data.tags["manifest.derived_from.relation"] == "reproduced"
    again = tmp_path / "again.yaml"
    e = env.manifest("export", report["run_id"], "--tracking-uri", mlflow_server.uri, "-o", str(again))
    assert e.returncode == 0, e.stderr
    table = results_table([source, load_path(again).data], ["accuracy"])
    assert [row["n"] for row in table["rows"]] == [1]

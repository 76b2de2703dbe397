"""`manifest export` against real MLflow stores: the SQLite default and real servers."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.mlflow_env import free_port, tracking
from support.mlflow_runs import TRICKY_PARAMS, fluent_run, grid_search_runs, run_script, script_repo

from manifest.core.digests import file_digest
from manifest.core.params import param_text
from manifest.document.reader import load_path
from manifest.spec.validation import validate_data

pytestmark = pytest.mark.e2e


def export(cli, uri: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = ["export", "--tracking-uri", uri, *args]
    if env:
        full = dict(os.environ, **env)
        return subprocess.run([str(Path(sys.executable).parent / "manifest"), *base], capture_output=True, text=True, env=full, timeout=300)
    return cli(*base)


def exported(cli, uri: str, run_id: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], Path]:
    out = tmp_path / f"{uuid.uuid4().hex[:6]}.yaml"
    r = export(cli, uri, run_id, "-o", str(out), *args, env=env)
    assert r.returncode == 0, r.stderr
    return load_path(out).data, out


def check_fluent(m: dict[str, Any], client: Any, run_id: str) -> None:
    assert validate_data(m) == []
    assert m["name"] == "fluent ✓ run" and m["description"] == "A run with everything."
    run = client.get_run(run_id)
    # params: typed where the text survives, restored byte for byte
    assert {k: param_text(v) for k, v in m["params"].items()} == run.data.params == {**TRICKY_PARAMS}
    assert m["params"]["n_estimators"] == 100 and m["params"]["ratio"] == 0.2 and m["params"]["flag"] is True
    assert m["params"]["nothing"] is None and m["params"]["lr"] == "0.10" and m["params"]["other_flag"] == "true"
    assert len(m["params"]["long"]) == 6000
    # run info, exactly
    assert m["run"]["status"] == "FINISHED" and m["run"]["user"] == run.info.user_id
    from manifest.core.times import ms_to_timestamp

    assert m["run"]["start_time"] == ms_to_timestamp(run.info.start_time) and m["run"]["end_time"] == ms_to_timestamp(run.info.end_time)
    # every point of every metric, with exact step, timestamp and value
    for key in run.data.metrics:
        points = sorted(client.get_metric_history(run_id, key), key=lambda p: (p.step, p.timestamp))
        metric = m["metrics"][key]
        if len(points) > 1:
            h = metric["history"]
            assert h["step"] == [p.step for p in points] and h["timestamp"] == [p.timestamp for p in points]
            assert [("NaN" if isinstance(p.value, float) and math.isnan(p.value) else p.value) for p in points] == h["value"]
        else:
            assert (metric["step"], metric["timestamp"]) == (points[0].step, points[0].timestamp)
    assert m["metrics"]["nan_metric"]["value"] == "NaN"
    assert m["metrics"]["inf_metric"]["value"] == 1.7976931348623157e308  # the store already lost the infinity
    assert m["metrics"]["neg_inf_metric"]["value"] == -1.7976931348623157e308
    assert len(m["metrics"]["loss"]["history"]["step"]) == 50
    # tags: user tags apart from system tags
    assert m["tags"] == {"team": "vision", "ünïcode": "välue"}
    assert all(k.startswith("mlflow.") for k in m["provenance"]["source"].get("system_tags", {}))
    # datasets: MLflow's fingerprint kept apart, verbatim records for import
    by_name = {d["name"]: d for d in m["data"]}
    assert set(by_name) == {"iris-train", "dataset", "array"}
    tr = by_name["iris-train"]
    assert tr["role"] == "training" and tr["uri"] == "data/iris.csv" and tr["rows"] == 120 and "digest" not in tr
    assert len(tr["tracking"]["fingerprint"]) == 8 and tr["tracking"]["tags"] == {"mlflow.data.context": "training"}
    assert [f["name"] for f in tr["table_schema"]["fields"]][-1] == "target"
    assert "name" not in by_name["dataset"]["tracking"] and by_name["dataset"]["role"] == "test" and by_name["array"]["role"] == "evaluation"
    inputs = {(di.dataset.name, di.dataset.digest): di for di in run.inputs.dataset_inputs}
    for d in m["data"]:
        t = d["tracking"]
        di = inputs[(t.get("name", d["name"]), t["fingerprint"])]
        assert (t["source_type"], t["source"], t.get("schema"), t.get("profile")) == (di.dataset.source_type, di.dataset.source, di.dataset.schema, di.dataset.profile)
    # artifacts with real digests
    arts = {a["path"]: a for a in m["artifacts"]}
    assert arts["notes/readme.txt"]["size"] == 5
    assert arts["notes/readme.txt"]["digest"]["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # sha256("hello")
    # the MLflow 3 logged model, outside the run's artifacts, and its registry version
    (model,) = m["models"]
    assert model["name"] == "model" and model["id"].startswith("m-")
    assert "sklearn" in model["flavors"] and any(f["path"] == "MLmodel" for f in model["files"])
    assert model["size"] == sum(f["size"] for f in model["files"])
    lm = client.get_logged_model(model["id"])
    assert {k: param_text(v) for k, v in model["params"].items()} == lm.params
    acc = [x for x in model["metrics"] if x["name"] == "accuracy"]
    assert acc and acc[0]["dataset"]["name"] == "dataset" and len(acc[0]["dataset"]["fingerprint"]) == 8
    assert model["registered"] == [{"name": "iris-rf", "version": "1", "aliases": ["champion"]}]


def test_export_fluent_run_sqlite(cli, sqlite_uri, tmp_path):
    import mlflow

    with tracking(sqlite_uri):
        info = fluent_run("fluent")
        client = mlflow.MlflowClient(sqlite_uri)
        m, out = exported(cli, sqlite_uri, info["run_id"], tmp_path)
        check_fluent(m, client, info["run_id"])
        # the model files' digests are those of the bytes MLflow stores
        lm = client.get_logged_model(info["model_id"])
        stored = Path(lm.artifact_location.replace("file://", ""))
        for f in m["models"][0]["files"]:
            assert file_digest(stored / f["path"])[1] == f["digest"]
        # and the model's digest is the dirHash of those files (spec 6.3), written out here
        files = sorted(m["models"][0]["files"], key=lambda f: f["path"].encode())
        listing = "".join(f"{f['digest']['sha256']}  {f['path']}\n" for f in files).encode()
        assert m["models"][0]["digest"] == {"dirHash": hashlib.sha256(listing).hexdigest()}
        assert m["models"][0]["size"] == sum((stored / f["path"]).stat().st_size for f in files)
        assert m["provenance"]["source"]["tracking_uri"] == sqlite_uri
        assert cli("validate", str(out)).returncode == 0


def test_export_fluent_run_server(cli, mlflow_server, tmp_path):
    import mlflow

    with tracking(mlflow_server.uri):
        info = fluent_run("fluent-server")
        m, _ = exported(cli, mlflow_server.uri, info["run_id"], tmp_path)
        check_fluent(m, mlflow.MlflowClient(mlflow_server.uri), info["run_id"])


def test_export_long_history_over_rest_pages_and_sidecar(cli, mlflow_server, tmp_path):
    """30,000 points cross MLflow's 25,000-point page; the sidecar holds every one of them."""
    import mlflow
    from mlflow.entities import Metric

    with tracking(mlflow_server.uri):
        client = mlflow.MlflowClient(mlflow_server.uri)
        exp = client.create_experiment(f"long-{uuid.uuid4().hex[:6]}")
        run = client.create_run(exp)
        rid = run.info.run_id
        points = [Metric("long", float(i % 97) / 7, 1_700_000_000_000 + i, i) for i in range(30_000)]
        client.log_batch(rid, metrics=points)
        client.set_terminated(rid)
        out = tmp_path / "long.yaml"
        r = export(cli, mlflow_server.uri, rid, "-o", str(out), "--history", "sidecar")
        assert r.returncode == 0, r.stderr
        m = load_path(out).data
        ref = m["metrics"]["long"]["history_file"]
        assert ref["points"] == 30_000
        side = json.loads((tmp_path / ref["path"]).read_text())
        assert side["step"] == list(range(30_000)) and side["value"][-1] == points[-1].value
        v = cli("validate", str(tmp_path))
        assert v.returncode == 0, v.stdout
        assert "1 history file checked" in v.stdout


def test_export_grid_search_experiment_to_directory(cli, sqlite_uri, tmp_path):
    with tracking(sqlite_uri):
        parent_id = grid_search_runs("grid")
        out = tmp_path / "grid"
        r = export(cli, sqlite_uri, "--experiment", "grid", "-o", str(out))
        assert r.returncode == 0, r.stderr
        docs = [load_path(p).data for p in sorted(out.glob("*.yaml"))]
        assert len(docs) == 4  # the parent and one child per max_depth
        children = [d for d in docs if d["run"].get("parent")]
        assert len(children) == 3 and all(d["run"]["parent"]["run_id"] == parent_id for d in children)
        assert sorted(d["params"]["max_depth"] for d in children) == [1, 2, 3]
        parent = next(d for d in docs if not d["run"].get("parent"))
        assert parent["params"]["cv"] == 2 and "best_cv_score" in parent["metrics"]
        assert all(validate_data(d) == [] for d in docs)
        r = export(cli, sqlite_uri, "--experiment", "grid", "--filter", "params.max_depth = '2'", "-o", str(tmp_path / "one"))
        assert r.returncode == 0, r.stderr
        assert len(list((tmp_path / "one").glob("*.yaml"))) == 1


def test_export_captured_script_run(cli, sqlite_uri, tmp_path):
    """A script in a dirty git repository: commit, branch, diff, command, template, data digests."""
    repo = script_repo(tmp_path)
    run_id = run_script(repo, {"MLFLOW_TRACKING_URI": sqlite_uri}, "--n-estimators", "20", "--test-size", "0.25")
    m, out = exported(cli, sqlite_uri, run_id, tmp_path)
    code = m["code"]
    from support.mlflow_runs import git

    assert code["commit"] == git(repo, "rev-parse", "HEAD") and code["branch"] == "main" and code["dirty"] is True
    assert code["repository"] == "https://example.org/lab/iris.git"  # credentials stripped
    diff = out.parent / code["diff"]["path"]
    assert diff.read_bytes() == subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=repo, capture_output=True).stdout
    assert file_digest(diff)[1] == code["diff"]["digest"]
    assert code["command"] == ["python", "train.py", "--n-estimators", "20", "--test-size", "0.25"]
    assert code["command_template"] == ["python", "train.py", "--n-estimators", "{n_estimators}", "--test-size", "{test_size}"]
    assert code["entry_point"] == "train.py" and code["working_directory"] == ""
    env = m["environment"]
    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["packages"]["mlflow"] and env["packages"]["experiment-manifest"]
    assert env["seeds"] == {"python": 42, "numpy": 42}
    assert env["hardware"]["cpu"]["logical_cores"] == os.cpu_count() and env["hardware"]["accelerators"] == []
    data = {d["name"]: d for d in m["data"]}
    assert data["train"]["digest"] == file_digest(repo / "data" / "train.csv")[1] and data["train"]["size"] == 12
    assert data["images"]["kind"] == "directory" and data["images"]["size"] == 266
    images = "".join(f"{hashlib.sha256((repo / 'data' / 'images' / n).read_bytes()).hexdigest()}  {n}\n" for n in ("x.bin", "y.bin")).encode()
    assert data["images"]["digest"] == {"dirHash": hashlib.sha256(images).hexdigest()}
    assert cli("validate", str(out)).returncode == 0
    assert "s3cret" not in out.read_text()


def test_export_outside_git(cli, sqlite_uri, tmp_path):
    repo = script_repo(tmp_path, dirty=False)
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    run_id = run_script(repo, {"MLFLOW_TRACKING_URI": sqlite_uri})
    r = export(cli, sqlite_uri, run_id, "-o", str(tmp_path / "m.yaml"))
    assert r.returncode == 0, r.stderr
    assert "not in a git repository" in r.stderr
    m = load_path(tmp_path / "m.yaml").data
    assert "commit" not in m["code"] and m["code"]["entry_point"] == "train.py"


def test_export_through_basic_auth(cli, auth_server, tmp_path):

    with tracking(auth_server.uri, auth_server.username, auth_server.password):
        info = fluent_run("auth", with_model=False, points=3)
    env = {"MLFLOW_TRACKING_USERNAME": auth_server.username, "MLFLOW_TRACKING_PASSWORD": auth_server.password}
    m, _ = exported(cli, auth_server.uri, info["run_id"], tmp_path, env=env)
    assert m["params"]["n_estimators"] == 100 and validate_data(m) == []
    bad = export(cli, auth_server.uri, info["run_id"], "-o", str(tmp_path / "x.yaml"), env={**env, "MLFLOW_TRACKING_PASSWORD": "wrong"})
    assert bad.returncode == 3 and "refused the credentials" in bad.stderr and "Traceback" not in bad.stderr
    assert "wrong" not in bad.stderr and not (tmp_path / "x.yaml").exists()


def test_export_to_stdout_is_the_manifest(cli, sqlite_uri):
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("stdout")
        with mlflow.start_run() as run:
            mlflow.log_param("a", 1)
    r = export(cli, sqlite_uri, run.info.run_id, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["params"] == {"a": 1}


# --------------------------------------------------------------------------- errors


def test_unknown_run_and_experiment(cli, sqlite_uri, tmp_path):
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("exists")
    out = tmp_path / "x.yaml"
    r = export(cli, sqlite_uri, "0123456789abcdef0123456789abcdef", "-o", str(out))
    assert r.returncode == 4 and "0123456789abcdef0123456789abcdef" in r.stderr and "Traceback" not in r.stderr
    r = export(cli, sqlite_uri, "--experiment", "nope", "-o", str(tmp_path / "d"))
    assert r.returncode == 4 and "experiment 'nope' was not found" in r.stderr
    r = export(cli, sqlite_uri, "--experiment", "exists", "-o", str(tmp_path / "d"))
    assert r.returncode == 4 and "has no runs" in r.stderr
    assert not out.exists() and not (tmp_path / "d").exists()


def test_missing_sqlite_store_is_not_created(cli, tmp_path):
    uri = f"sqlite:///{tmp_path}/absent.db"
    r = export(cli, uri, "0123456789abcdef0123456789abcdef")
    assert r.returncode == 3 and "no MLflow store" in r.stderr
    assert not (tmp_path / "absent.db").exists()


def test_unreachable_server_fails_fast_and_masks_credentials(cli, tmp_path):
    uri = f"http://alice:hunter2@127.0.0.1:{free_port()}"
    r = export(cli, uri, "0123456789abcdef0123456789abcdef", "-o", str(tmp_path / "x.yaml"))
    assert r.returncode == 3 and "cannot reach the tracking server http://***@127.0.0.1" in r.stderr
    assert "hunter2" not in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_deleted_and_running_runs(cli, sqlite_uri, tmp_path):
    import mlflow

    with tracking(sqlite_uri):
        client = mlflow.MlflowClient(sqlite_uri)
        exp = client.create_experiment("states")
        deleted = client.create_run(exp).info.run_id
        client.set_terminated(deleted)
        client.delete_run(deleted)
        running = client.create_run(exp).info.run_id
        client.log_metric(running, "m", 1.0)
    r = export(cli, sqlite_uri, deleted, "-o", str(tmp_path / "d.yaml"))
    assert r.returncode == 4 and "is deleted" in r.stderr and not (tmp_path / "d.yaml").exists()
    r = export(cli, sqlite_uri, running, "-o", str(tmp_path / "r.yaml"))
    assert r.returncode == 5 and "--allow-running" in r.stderr and not (tmp_path / "r.yaml").exists()
    r = export(cli, sqlite_uri, running, "-o", str(tmp_path / "r.yaml"), "--allow-running")
    assert r.returncode == 0, r.stderr
    m = load_path(tmp_path / "r.yaml").data
    assert m["run"]["status"] == "RUNNING" and "end_time" not in m["run"]


def test_bad_filter_is_a_usage_error(cli, sqlite_uri, tmp_path):
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("f")
        with mlflow.start_run():
            pass
    r = export(cli, sqlite_uri, "--experiment", "f", "--filter", "params.x === 1", "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_a_failed_re_export_leaves_the_previous_manifest_and_sidecars_intact(sqlite_uri, tmp_path):
    """A full disk, made real with RLIMIT_FSIZE: the sidecar fits, the manifest does not."""
    import resource

    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("disk-full")
        with mlflow.start_run() as run:
            mlflow.log_params({f"p{i:03d}": "x" * 200 for i in range(90)})  # a manifest of ~25 KB
            for step in range(10):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)  # a sidecar of a few hundred bytes
    out = tmp_path / "out" / "m.yaml"
    out.parent.mkdir()
    command = [str(Path(sys.executable).parent / "manifest"), "export", "--tracking-uri", sqlite_uri, run.info.run_id, "-o", str(out), "--history", "sidecar"]
    r = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    sidecar = out.parent / "m.history" / "loss.json"
    before = {p: p.read_bytes() for p in (out, sidecar)}
    assert len(before[out]) > 16_384 > len(before[sidecar])

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))

    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 5 and f"{out} exists; pass --force to replace it" in refused.stderr, refused.stderr
    again = subprocess.run([*command, "--force"], capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert again.returncode == 2, again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "File too large" in again.stderr and "Traceback" not in again.stderr
    assert {p: p.read_bytes() for p in (out, sidecar)} == before
    assert sorted(p.name for p in out.parent.rglob("*")) == ["loss.json", "m.history", "m.yaml"]  # no temporary file left


def test_export_never_replaces_a_file_or_puts_several_runs_into_one(sqlite_uri, tmp_path, cli):
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("safe-files")
        ids = []
        for i in range(2):
            with mlflow.start_run(run_name=f"r{i}") as run:
                mlflow.log_param("i", i)
            ids.append(run.info.run_id)
    one = tmp_path / "one.yaml"
    one.write_text("precious\n")
    r = export(cli, sqlite_uri, ids[0], "-o", str(one))
    assert r.returncode == 5 and "pass --force" in r.stderr and one.read_text() == "precious\n", r.stderr
    assert export(cli, sqlite_uri, ids[0], "-o", str(one), "--force").returncode == 0
    assert load_path(one).data["provenance"]["source"]["run_id"] == ids[0]
    r = export(cli, sqlite_uri, "--experiment", "safe-files", "-o", str(tmp_path / "single.yaml"))
    assert r.returncode == 2 and "several runs cannot go to the one file" in r.stderr, r.stderr
    assert not (tmp_path / "single.yaml").exists()  # no directory named single.yaml either
    r = export(cli, sqlite_uri, "--experiment", "safe-files", "--filter", "params.i = '1'", "-o", str(tmp_path / "filtered.yaml"))
    assert r.returncode == 0 and load_path(tmp_path / "filtered.yaml").data["provenance"]["source"]["run_id"] == ids[1], r.stderr
    r = export(cli, sqlite_uri, "--experiment", "safe-files", "--filter", "params.i = '0'")
    assert r.returncode == 0 and ids[0] in r.stdout  # one run, to standard output
    out = tmp_path / "dir"
    assert export(cli, sqlite_uri, "--experiment", "safe-files", "-o", str(out)).returncode == 0
    r = export(cli, sqlite_uri, "--experiment", "safe-files", "-o", str(out))
    assert r.returncode == 5 and "(and 1 more)" in r.stderr, r.stderr  # every target is checked before the first write

"""`manifest import`: faithful, atomic, idempotent and safe, on real MLflow stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.mlflow_env import free_port, start_server, tracking
from support.mlflow_runs import LONG_PARAM, fluent_run, grid_search_runs, run_script, script_repo
from support.paths import EXAMPLE
from support.roundtrip import comparable

from manifest.core.digests import file_digest
from manifest.document.reader import load_path
from manifest.document.writer import dumps_yaml

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent / "manifest"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=timeout)


def export(uri: str, run_id: str, out: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out.parent.mkdir(parents=True, exist_ok=True)  # -o FILE needs its directory (a missing one is a usage error)
    r = run_cli("export", run_id, "--tracking-uri", uri, "-o", str(out), "--with-models", "--with-artifacts", *extra, env=env)
    assert r.returncode == 0, r.stderr
    return load_path(out).data


def do_import(uri: str, *args: str, env: dict[str, str] | None = None) -> str:
    r = run_cli("import", "--tracking-uri", uri, *args, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines and all(len(x) == 32 for x in lines), r.stdout  # run ids only on standard output
    return lines[-1]


def roundtrip(uri: str, run_id: str, tmp: Path, target: str | None = None, env: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any], str]:
    first = export(uri, run_id, tmp / "a" / "m.yaml", env=env)
    same_store = () if target else ("--no-registry",)  # the registry versions belong to the original
    new = do_import(target or uri, str(tmp / "a" / "m.yaml"), "--experiment", f"imported-{uuid.uuid4().hex[:6]}", *same_store, env=env)
    second = export(target or uri, new, tmp / "b" / "m.yaml", env=env)
    return first, second, new


def test_round_trip_fluent_run_sql_store(sql_store_uri, tmp_path):
    """SQLite and PostgreSQL: both direct-SQL fast paths (histories read, points written) and
    the registry on each database."""
    import mlflow

    with tracking(sql_store_uri):
        info = fluent_run("rt")
        first, second, new = roundtrip(sql_store_uri, info["run_id"], tmp_path)
        assert comparable(second) == comparable(first)
        client = mlflow.MlflowClient(sql_store_uri, registry_uri=sql_store_uri)
        run = client.get_run(new)
        src = client.get_run(info["run_id"])
        # fidelity where MLflow shows it directly
        assert (run.info.start_time, run.info.end_time, run.info.status, run.info.user_id) == (src.info.start_time, src.info.end_time, src.info.status, src.info.user_id)
        assert run.data.params == src.data.params and run.data.params["long"] == LONG_PARAM
        assert run.info.run_name == src.info.run_name
        # lineage, the manifest and the environment as artifacts
        assert run.data.tags["manifest.derived_from.id"] == first["id"] and run.data.tags["manifest.source.run_id"] == info["run_id"]
        names = {a.path for a in client.list_artifacts(new, "manifest-context")}
        assert {"manifest-context/manifest.yaml", "manifest-context/context.json", "manifest-context/requirements.txt", "manifest-context/python_env.yaml"} <= names
        # the recreated model loads, and MLmodel names the new ids
        (model,) = second["models"]
        info_new = mlflow.models.get_model_info(f"models:/{model['id']}")
        assert info_new.run_id == new and info_new.model_id == model["id"]
        loaded = mlflow.sklearn.load_model(f"models:/{model['id']}")
        assert loaded.n_estimators == 5


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_round_trip_fluent_run_server(backend, request, tmp_path):
    """Servers backed by SQLite and by PostgreSQL, artifacts proxied."""
    server = request.getfixturevalue("mlflow_server" if backend == "sqlite" else "postgres_server")
    with tracking(server.uri):
        info = fluent_run(f"rt-server-{uuid.uuid4().hex[:6]}", register_as=None)
        first, second, _ = roundtrip(server.uri, info["run_id"], tmp_path)
        assert comparable(second) == comparable(first)


def test_round_trip_sqlite_to_server_with_basic_auth(sqlite_uri, auth_server, tmp_path):
    with tracking(sqlite_uri):
        info = fluent_run("rt-auth", register_as=None)
    env = {"MLFLOW_TRACKING_USERNAME": auth_server.username, "MLFLOW_TRACKING_PASSWORD": auth_server.password}
    first, second, _ = roundtrip(sqlite_uri, info["run_id"], tmp_path, target=auth_server.uri, env=env)
    assert comparable(second) == comparable(first)
    r = run_cli("import", "--tracking-uri", auth_server.uri, str(tmp_path / "a" / "m.yaml"), "--experiment", "x", env={**env, "MLFLOW_TRACKING_PASSWORD": "wrong"})
    assert r.returncode == 3 and "refused the credentials" in r.stderr and "Traceback" not in r.stderr


def test_round_trip_grid_search_tree(sqlite_uri, tmp_path):
    """Importing a directory of a parent and its children keeps the tree."""
    import mlflow

    with tracking(sqlite_uri):
        grid_search_runs("grid-rt")
    r = run_cli("export", "--tracking-uri", sqlite_uri, "--experiment", "grid-rt", "-o", str(tmp_path / "grid"), "--with-artifacts", "--with-models")
    assert r.returncode == 0, r.stderr
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(tmp_path / "grid"), "--experiment", "grid-copy")
    assert r.returncode == 0, r.stderr
    new_ids = r.stdout.split()
    assert len(new_ids) == 4
    client = mlflow.MlflowClient(sqlite_uri)
    runs = [client.get_run(i) for i in new_ids]
    parents = [x for x in runs if "mlflow.parentRunId" not in x.data.tags]
    assert len(parents) == 1
    children = [x for x in runs if x.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == 3
    r = run_cli("export", "--tracking-uri", sqlite_uri, "--experiment", "grid-copy", "-o", str(tmp_path / "grid2"))
    assert r.returncode == 0, r.stderr
    a = sorted((comparable(load_path(p).data) for p in (tmp_path / "grid").glob("*.yaml")), key=lambda d: json.dumps(d, sort_keys=True))
    b = sorted((comparable(load_path(p).data) for p in (tmp_path / "grid2").glob("*.yaml")), key=lambda d: json.dumps(d, sort_keys=True))
    assert a == b


def test_round_trip_captured_script_run(sqlite_uri, tmp_path):
    repo = script_repo(tmp_path)
    run_id = run_script(repo, {"MLFLOW_TRACKING_URI": sqlite_uri}, "--n-estimators", "7")
    first, second, _ = roundtrip(sqlite_uri, run_id, tmp_path)
    assert comparable(second) == comparable(first)
    assert second["code"]["dirty"] is True and second["code"]["diff"]["digest"] == first["code"]["diff"]["digest"]
    assert second["environment"] == first["environment"]


@pytest.mark.parametrize("target", ["same", "postgres"])
def test_round_trip_100k_points_and_special_values(sqlite_uri, tmp_path, target, request):
    """Back into the same SQLite store, or into PostgreSQL: both direct-SQL paths at scale (the
    bulk write in 50,000-point statements, the history read) on each database."""
    import mlflow
    from mlflow.entities import Metric

    with tracking(sqlite_uri):
        client = mlflow.MlflowClient(sqlite_uri, registry_uri=sqlite_uri)
        exp = client.create_experiment("big")
        run = client.create_run(exp, start_time=1_700_000_000_000 - 5_000, run_name="ünïcode ✓ run", tags={"mlflow.user": "ada"})
        rid = run.info.run_id
        base = 1_700_000_000_000
        pts = [Metric("loss", (i % 1000) / 1000 if i % 5000 else float("nan"), base + i, i) for i in range(100_000)]
        client.log_batch(rid, metrics=pts[:50_000])
        client.log_batch(rid, metrics=pts[50_000:])
        client.log_param(rid, "p", "0.10")
        client.set_terminated(rid, "KILLED", end_time=base + 123_456)
    first, second, _ = roundtrip(sqlite_uri, rid, tmp_path, target=request.getfixturevalue("postgres_uri") if target == "postgres" else None)
    assert first["metrics"]["loss"]["history_file"]["points"] == 100_000
    assert comparable(second) == comparable(first)
    assert second["run"]["status"] == "KILLED" and second["run"]["end_time"] == "2023-11-14T22:15:23.456Z"


def test_run_without_models_or_datasets(sqlite_uri, tmp_path):
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("plain")
        with mlflow.start_run() as run:
            mlflow.log_metric("m", 1.5)
    first, second, _ = roundtrip(sqlite_uri, run.info.run_id, tmp_path)
    assert comparable(second) == comparable(first)


# --------------------------------------------------------------------------- idempotent, safe, atomic


def _simple_manifest(tmp_path: Path, sqlite_uri: str) -> Path:
    import mlflow

    with tracking(sqlite_uri):
        mlflow.set_experiment("simple")
        with mlflow.start_run() as run:
            mlflow.log_param("a", 1)
            mlflow.log_text("hello", "notes/readme.txt")
    out = tmp_path / "bundle" / "m.yaml"
    export(sqlite_uri, run.info.run_id, out)
    return out


def test_reimport_refuses_unless_allowed(sqlite_uri, tmp_path):
    m = _simple_manifest(tmp_path, sqlite_uri)
    first = do_import(sqlite_uri, str(m), "--experiment", "dup")
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "dup")
    assert r.returncode == 5 and first in r.stderr and "--allow-duplicate" in r.stderr and r.stdout == ""
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "another")
    assert r.returncode == 5 and first in r.stderr and "'dup'" in r.stderr, r.stderr  # the run's identity is searched in the whole store
    second = do_import(sqlite_uri, str(m), "--experiment", "dup", "--allow-duplicate")
    assert second != first


@pytest.fixture(params=["sqlite", "server"])
def target_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """Where a copy goes: a fresh SQLite store, or the session's real `mlflow server` (which other
    tests share, so counts there are taken before and after)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}", {}
    server = request.getfixturevalue("mlflow_server")
    return server.uri, server.env()


def _all_runs(uri: str, env: dict[str, str]) -> int:
    import mlflow
    from mlflow.entities import ViewType

    with tracking(uri):
        client = mlflow.MlflowClient(uri)
        return sum(len(client.search_runs([e.experiment_id], run_view_type=ViewType.ALL, max_results=50000)) for e in client.search_experiments(view_type=ViewType.ALL))


def test_a_re_exported_run_is_the_same_run(sqlite_uri, tmp_path, target_store):
    """Two exports of one run differ (provenance.created_at), so their manifest digests differ; the
    run's identity (source system and run id) is what makes it a duplicate."""
    import mlflow

    target, env = target_store
    m = _simple_manifest(tmp_path, sqlite_uri)
    run_id = load_path(m).data["provenance"]["source"]["run_id"]
    again = tmp_path / "again" / "m.yaml"
    again.parent.mkdir()
    export(sqlite_uri, run_id, again)
    assert load_path(again).data["provenance"]["created_at"] != load_path(m).data["provenance"]["created_at"]
    one, two = f"one-{uuid.uuid4().hex[:6]}", f"two-{uuid.uuid4().hex[:6]}"
    first = do_import(target, str(m), "--experiment", one, env=env)
    r = run_cli("import", "--tracking-uri", target, str(again), "--experiment", two, env=env)
    assert r.returncode == 5 and f"as run {first} of experiment '{one}'" in r.stderr and str(again) in r.stderr, r.stderr
    with tracking(target):
        mlflow.MlflowClient(target).delete_run(first)  # a deleted run never counts
    assert do_import(target, str(again), "--experiment", two, env=env)


def test_a_half_imported_directory_is_refused_up_front_then_resumed_with_skip_existing(sqlite_uri, tmp_path, target_store):
    import mlflow

    target, env = target_store
    with tracking(sqlite_uri):
        mlflow.set_experiment("abc")
        for name in ("a", "b", "c"):
            with mlflow.start_run(run_name=name):
                mlflow.log_param("x", name)
    d = tmp_path / "exports"
    r = run_cli("export", "--tracking-uri", sqlite_uri, "--experiment", "abc", "-o", str(d))
    assert r.returncode == 0, r.stderr
    files = {load_path(p).data["name"]: p for p in d.glob("*.yaml")}
    experiment = f"abc-{uuid.uuid4().hex[:6]}"
    b_run = do_import(target, str(files["b"]), "--experiment", experiment, env=env)
    before = _all_runs(target, env)
    r = run_cli("import", "--tracking-uri", target, str(d), "--experiment", experiment, env=env)
    assert r.returncode == 5 and r.stdout == "", r.stderr
    assert f"{files['b']}: this run was already imported, as run {b_run}" in r.stderr and "--skip-existing" in r.stderr
    assert _all_runs(target, env) == before  # refused before anything was written
    r = run_cli("import", "--tracking-uri", target, str(d), "--experiment", experiment, "--skip-existing", env=env)
    assert r.returncode == 0, r.stderr
    new = r.stdout.split()
    assert len(new) == 2 and b_run not in new and f"skipped {files['b']}" in r.stderr
    with tracking(target):
        client = mlflow.MlflowClient(target)
        assert {client.get_run(i).info.run_name for i in new} == {"a", "c"}
    assert _all_runs(target, env) == before + 2
    r = run_cli("import", "--tracking-uri", target, str(d), "--experiment", experiment, "--skip-existing", env=env)
    assert r.returncode == 0 and r.stdout == "", r.stderr  # nothing left to do


def _count_runs(uri: str) -> int:
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    return sum(len(client.search_runs([e.experiment_id], run_view_type=ViewType.ALL)) for e in client.search_experiments(view_type=ViewType.ALL))


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "size", "digest", "missing-sidecar", "unknown-version"])
def test_unsafe_or_altered_bundles_are_refused_before_anything_is_written(sqlite_uri, tmp_path, case):
    m = _simple_manifest(tmp_path, sqlite_uri)
    data = load_path(m).data
    art = data["artifacts"][0]
    outside = tmp_path / "outside.txt"
    outside.write_text("hello")
    expect = 1
    if case == "dotdot":
        art["local_path"] = "../outside.txt"
    elif case == "absolute":
        art["local_path"] = str(outside)
    elif case == "symlink":
        (m.parent / "m.artifacts" / "notes" / "readme.txt").unlink()
        (m.parent / "m.artifacts" / "notes" / "readme.txt").symlink_to(outside)
    elif case == "size":
        (m.parent / "m.artifacts" / "notes" / "readme.txt").write_text("hello!")
        expect = 6
    elif case == "digest":
        (m.parent / "m.artifacts" / "notes" / "readme.txt").write_text("HELLO")
        expect = 6
    elif case == "missing-sidecar":
        data["metrics"] = {"loss": {"value": 1.0, "step": 1, "history_file": {"path": "m.history/loss.json", "size": 10, "digest": {"sha256": "0" * 64}, "points": 2}}}
        expect = 6
    elif case == "unknown-version":
        data["spec_version"] = "9.0"
    if case != "symlink":
        m.write_text(dumps_yaml(data))
    before = _count_runs(sqlite_uri)
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", f"safe-{case}")
    assert r.returncode == expect, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert _count_runs(sqlite_uri) == before
    if case == "symlink":
        assert "outside the manifest's directory" in r.stderr
    if case == "unknown-version":
        assert "knows 1.0" in r.stderr


def test_deleted_experiment_and_unreachable_server(sqlite_uri, tmp_path):
    import mlflow

    m = _simple_manifest(tmp_path, sqlite_uri)
    with tracking(sqlite_uri):
        client = mlflow.MlflowClient(sqlite_uri)
        client.delete_experiment(client.create_experiment("gone"))
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "gone")
    assert r.returncode == 4 and "is deleted" in r.stderr
    r = run_cli("import", "--tracking-uri", f"http://bob:pw123@127.0.0.1:{free_port()}", str(m))
    assert r.returncode == 3 and "cannot reach" in r.stderr and "pw123" not in r.stderr


def test_server_stopping_part_way_leaves_no_finished_run(tmp_path):
    """Kill the server while the import logs 100,000 points; the run must not look finished."""
    import mlflow
    from mlflow.entities import ViewType

    root = tmp_path / "srv"
    server = start_server(root)
    try:
        cols = {"step": list(range(100_000)), "timestamp": [1_700_000_000_000 + i for i in range(100_000)], "value": [i / 7 for i in range(100_000)]}
        from manifest.document.writer import dumps_history

        bundle = tmp_path / "bundle"
        (bundle / "h").mkdir(parents=True)
        body = dumps_history(cols)
        (bundle / "h" / "loss.json").write_bytes(body)
        size, digest = file_digest(bundle / "h" / "loss.json")
        doc = {
            "spec_version": "1.0", "id": "urn:uuid:" + str(uuid.uuid4()), "name": "doomed",
            "provenance": {"created_at": "2026-01-01T00:00:00.000Z", "created_by": {"name": "t", "version": "0"}},
            "run": {"status": "FINISHED", "start_time": "2026-01-01T00:00:00.000Z", "end_time": "2026-01-01T01:00:00.000Z"},
            "metrics": {"loss": {"value": cols["value"][-1], "step": 99_999, "timestamp": cols["timestamp"][-1], "history_file": {"path": "h/loss.json", "size": size, "digest": digest, "points": 100_000}}},
        }
        (bundle / "m.yaml").write_text(dumps_yaml(doc))
        proc = subprocess.Popen([str(BIN), "import", "--tracking-uri", server.uri, str(bundle / "m.yaml"), "--experiment", "doomed"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        client = mlflow.MlflowClient(server.uri)
        deadline = time.monotonic() + 120
        started = False
        while time.monotonic() < deadline and not started:  # wait until the run exists and points are arriving
            exp = client.get_experiment_by_name("doomed")
            if exp:
                runs = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)
                started = bool(runs) and bool(client.get_metric_history(runs[0].info.run_id, "loss"))
            time.sleep(0.2)
        assert started, proc.communicate(timeout=60)
        server.stop()
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 3, err
        assert "Traceback" not in err and out == ""
        assert "could not be cleaned up" in err  # the store is down: the run can be neither marked nor deleted
        server = start_server(root, port=server.port)
        client = mlflow.MlflowClient(server.uri)
        exp = client.get_experiment_by_name("doomed")
        (run,) = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)
        assert run.info.status == "RUNNING"
        assert run.info.run_id in err
    finally:
        server.stop()


def test_invalid_manifest_never_touches_the_store(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('spec_version: "1.0"\nid: x\n')
    uri = f"sqlite:///{tmp_path}/never.db"
    r = run_cli("import", "--tracking-uri", uri, str(bad))
    assert r.returncode == 1 and "missing required property" in r.stderr
    assert not (tmp_path / "never.db").exists()


def test_package_name_that_is_not_a_pin_is_refused_before_the_store(tmp_path):
    """requirements.txt is written from environment.packages: a name carrying a pip option is refused."""
    data = load_path(str(EXAMPLE)).data
    data["environment"]["packages"]["--index-url=https://evil.example/simple"] = "1.0"
    path = tmp_path / "m.yaml"
    path.write_text(dumps_yaml(data), encoding="utf-8")
    assert run_cli("validate", str(path)).returncode == 0  # the schema allows any name
    uri = f"sqlite:///{tmp_path}/never.db"
    r = run_cli("import", "--tracking-uri", uri, str(path))
    assert r.returncode == 1 and "--index-url=https://evil.example/simple" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize("store", ["sqlite", "postgres", "server", "file"])
def test_written_points_match_what_log_batch_stores(store, request, tmp_path, monkeypatch):
    """Our writes (one transaction on SQL stores; log-batch requests built from the points on a
    server) keep MLflow's values, de-duplication and latest, as ``MlflowClient.log_batch`` does;
    a store the fast paths do not know (``file:``) gets ``log_batch`` itself, with the same result."""
    import math

    import mlflow
    from mlflow.entities import Metric

    from manifest.tracking.store import client as manifest_client
    from manifest.tracking.store import metric_tables_store

    if store == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses file stores without it (the CLI inherits it)
        uri = (tmp_path / "mlruns").as_uri()
    else:
        uri = request.getfixturevalue("mlflow_server").uri if store == "server" else request.getfixturevalue(f"{store}_uri")
    with tracking(uri):
        client = mlflow.MlflowClient(uri, registry_uri=uri)
        # which write is tested: the bulk INSERT on the SQL databases it knows, not a fallback to log_batch
        assert (metric_tables_store(manifest_client(uri, check=False)) is not None) == (store in ("sqlite", "postgres"))
        exp = client.create_experiment(f"ties-{uuid.uuid4().hex[:8]}")
        rid = client.create_run(exp, start_time=1_000).info.run_id
        t = 1_700_000_000_000
        pts = [
            Metric("tie", 1.0, t, 5), Metric("tie", 3.0, t, 5), Metric("tie", 2.0, t, 5),  # equal step and time: the largest value is latest
            Metric("nan", 0.5, t, 1), Metric("nan", float("nan"), t + 1, 2),
            Metric("inf", float("inf"), t, 0), Metric("inf", float("-inf"), t + 1, 0),
            Metric("dup", 1.0, t, 0), Metric("dup", 1.0, t, 0), Metric("dup", 0.5, t, 1),
            Metric("back", 9.0, t + 10, 3), Metric("back", 1.0, t, 7),  # a later step logged earlier
        ]
        client.log_batch(rid, metrics=pts)
        client.set_terminated(rid, end_time=2_000)
        first, second, new = roundtrip(uri, rid, tmp_path)
        assert comparable(second) == comparable(first)
        a, b = client.get_run(rid).data.metrics, client.get_run(new).data.metrics
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k

        def points(run_id: str, key: str) -> list[tuple]:
            return sorted((p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value) for p in client.get_metric_history(run_id, key))

        for k in a:
            assert points(rid, k) == points(new, k), k
        assert len(points(new, "dup")) == (3 if store == "file" else 2)  # a file store keeps identical points


# --------------------------------------------------------------------------- uploads are what was checked


@pytest.fixture
def model_export(sqlite_uri, tmp_path) -> tuple[Path, Path]:
    """A run with a logged model, exported with its files: (manifest, the model's folder)."""
    with tracking(sqlite_uri):
        fluent_run("uploads", points=3, register_as=None)
    import mlflow

    run_id = mlflow.MlflowClient(sqlite_uri).search_runs([mlflow.MlflowClient(sqlite_uri).get_experiment_by_name("uploads").experiment_id])[0].info.run_id
    out = tmp_path / "out" / "m.yaml"
    data = export(sqlite_uri, run_id, out)
    return out, out.parent / data["models"][0]["local_path"]


@pytest.mark.parametrize("case", ["unlisted-file", "symlink-to-directory", "fifo", "listed-file-is-a-link"])
def test_a_model_folder_holding_anything_but_its_listed_files_is_refused(sqlite_uri, tmp_path, model_export, case):
    m, folder = model_export
    home = tmp_path / "home"
    home.mkdir()
    (home / "id_rsa").write_text("PRIVATE KEY")
    if case == "unlisted-file":
        (folder / "notes.txt").write_text("not listed")
        named = "notes.txt"
    elif case == "symlink-to-directory":
        (folder / "home").symlink_to(home)
        named = "home"
    elif case == "fifo":
        os.mkfifo(folder / "pipe")
        named = "pipe"
    else:
        victim = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "MLmodel")[0]
        (home / victim.name).write_bytes(victim.read_bytes())  # same bytes, so only the link is wrong
        victim.unlink()
        victim.symlink_to(home / victim.name)
        named = victim.name
    before = _count_runs(sqlite_uri)
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", f"refused-{case}", timeout=120)
    assert r.returncode == 6, (r.returncode, r.stderr)
    assert named in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    code = "unlisted-file" if case == "unlisted-file" else "not-a-regular-file"
    assert ("does not list" if code == "unlisted-file" else ("symbolic link" if "link" in case else "not a regular file")) in r.stderr
    assert _count_runs(sqlite_uri) == before


def test_what_is_uploaded_is_the_copy_that_was_checked(sqlite_uri, model_export):
    """A model file changed on disk after the check does not reach the store: its checked copy does."""
    import mlflow

    from manifest.tracking.importing.batch import import_paths
    from manifest.tracking.importing.options import ImportOptions
    from manifest.tracking.importing.prepare import prepare
    from manifest.tracking.store import client

    m, folder = model_export
    target = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "MLmodel")[0]
    original = target.read_bytes()
    prepared = prepare(m)
    target.write_bytes(b"replaced after the check")  # what an attacker would do between check and upload
    [(_, run_id)] = import_paths(client(sqlite_uri, check=False), [prepared], tracking_uri=sqlite_uri, options=ImportOptions(experiment="checked-copy"))
    cl = mlflow.MlflowClient(sqlite_uri)
    [output] = cl.get_run(run_id).outputs.model_outputs
    got = Path(mlflow.artifacts.download_artifacts(artifact_uri=cl.get_logged_model(output.model_id).artifact_location, tracking_uri=sqlite_uri))
    assert (got / target.name).read_bytes() == original
    assert sorted(p.name for p in got.iterdir()) == sorted(p.name for p in folder.iterdir())
    assert prepared.staging is None  # the staged copies are gone once uploaded


# --------------------------------------------------------------------------- reserved tags


def test_recorded_system_tags_never_attach_the_run_to_an_unrelated_run(sqlite_uri, tmp_path):
    import mlflow

    m = _simple_manifest(tmp_path, sqlite_uri)
    with tracking(sqlite_uri):
        mlflow.set_experiment("bystanders")
        with mlflow.start_run() as bystander:
            pass
    data = load_path(m).data
    data["provenance"]["source"]["system_tags"] = {
        "mlflow.parentRunId": bystander.info.run_id, "mlflow.rootRunId": bystander.info.run_id,
        "mlflow.autologging": "sklearn", "manifest.derived_from.id": "urn:uuid:forged",
    }
    m.write_text(dumps_yaml(data))
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "system-tags")
    assert r.returncode == 0, r.stderr
    tags = mlflow.MlflowClient(sqlite_uri).get_run(r.stdout.strip()).data.tags
    assert "mlflow.parentRunId" not in tags and "mlflow.rootRunId" not in tags
    assert tags["mlflow.autologging"] == "sklearn" and tags["manifest.derived_from.id"] == data["id"]
    assert "system tag 'mlflow.parentRunId' is not restored (it links to a run of the source store)" in r.stderr


def test_a_user_tag_with_a_reserved_name_is_refused_before_anything_is_written(sqlite_uri, tmp_path):
    m = _simple_manifest(tmp_path, sqlite_uri)
    data = load_path(m).data
    data["tags"] = {"mlflow.parentRunId": "0" * 32}
    m.write_text(dumps_yaml(data))
    before = _count_runs(sqlite_uri)
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "reserved")
    assert r.returncode == 1, r.stderr
    assert "/tags/mlflow.parentRunId: tag 'mlflow.parentRunId' uses a reserved prefix" in r.stderr
    assert _count_runs(sqlite_uri) == before


# --------------------------------------------------------------------------- signals, leftovers, slow servers


def _history_bundle(tmp_path: Path, name: str, points: int = 100_000) -> Path:
    from manifest.document.writer import dumps_history

    cols = {"step": list(range(points)), "timestamp": [1_700_000_000_000 + i for i in range(points)], "value": [i / 7 for i in range(points)]}
    bundle = tmp_path / f"bundle-{name}"
    (bundle / "h").mkdir(parents=True)
    (bundle / "h" / "loss.json").write_bytes(dumps_history(cols))
    size, digest = file_digest(bundle / "h" / "loss.json")
    doc = {
        "spec_version": "1.0", "id": "urn:uuid:" + str(uuid.uuid4()), "name": name,
        "provenance": {"created_at": "2026-01-01T00:00:00.000Z", "created_by": {"name": "t", "version": "0"}},
        "run": {"status": "FINISHED", "start_time": "2026-01-01T00:00:00.000Z", "end_time": "2026-01-01T01:00:00.000Z"},
        "metrics": {"loss": {"value": cols["value"][-1], "step": points - 1, "timestamp": cols["timestamp"][-1], "history_file": {"path": "h/loss.json", "size": size, "digest": digest, "points": points}}},
    }
    (bundle / "m.yaml").write_text(dumps_yaml(doc))
    return bundle / "m.yaml"


def test_sigterm_part_way_cleans_up_as_ctrl_c_does_and_a_retry_succeeds(mlflow_server, tmp_path):
    import signal

    import mlflow
    from mlflow.entities import ViewType

    m = _history_bundle(tmp_path, "terminated")
    proc = subprocess.Popen([str(BIN), "import", "--tracking-uri", mlflow_server.uri, str(m), "--experiment", "terminated", "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = mlflow.MlflowClient(mlflow_server.uri)
    deadline = time.monotonic() + 120
    runs: list[Any] = []
    while time.monotonic() < deadline and not (runs and client.get_metric_history(runs[0].info.run_id, "loss")):
        exp = client.get_experiment_by_name("terminated")
        runs = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL) if exp else []
        time.sleep(0.2)
    assert runs, proc.communicate(timeout=60)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err and out == ""
    left = client.get_run(runs[0].info.run_id)
    assert left.info.status == "FAILED" and left.info.lifecycle_stage == "deleted"
    assert left.data.tags["manifest.import.error"]
    r = run_cli("import", "--tracking-uri", mlflow_server.uri, str(m), "--experiment", "terminated")
    assert r.returncode == 0, r.stderr


def test_a_run_left_by_a_killed_import_is_not_taken_for_an_imported_one(sqlite_uri, tmp_path):
    """What SIGKILL leaves: a RUNNING run with the lineage tags but no completion tag."""
    import mlflow

    from manifest.document.canonical import manifest_digest

    m = _history_bundle(tmp_path, "killed", points=10)
    data = load_path(m).data
    client = mlflow.MlflowClient(sqlite_uri)
    exp = client.create_experiment("killed")
    leftover = client.create_run(exp, tags={"manifest.derived_from.sha256": manifest_digest(data)["sha256"], "manifest.derived_from.id": data["id"], "manifest.derived_from.relation": "imported"})
    first = do_import(sqlite_uri, str(m), "--experiment", "killed")
    assert first != leftover.info.run_id
    r = run_cli("import", "--tracking-uri", sqlite_uri, str(m), "--experiment", "killed")
    assert r.returncode == 5 and first in r.stderr, r.stderr  # the complete import is one


def test_a_slow_server_is_reported_as_a_timeout_with_a_hint(tmp_path):
    import psutil

    server = start_server(tmp_path / "slow")
    procs = [psutil.Process(server.proc.pid), *psutil.Process(server.proc.pid).children(recursive=True)]
    try:
        for p in procs:
            p.suspend()
        r = run_cli("export", "0123456789abcdef0123456789abcdef", "--tracking-uri", server.uri, env={"MLFLOW_HTTP_REQUEST_TIMEOUT": "3"}, timeout=120)
    finally:
        for p in procs:
            p.resume()
        server.stop()
        for p in procs[1:]:  # the workers, should the server's own shutdown miss one
            if p.is_running():
                p.terminate()
    assert r.returncode == 3, r.stderr
    assert "did not answer" in r.stderr and "slow or overloaded" in r.stderr and "Traceback" not in r.stderr


# --------------------------------------------------------------------------- what the store would refuse

_LONG = "x" * 6001
STORE_CASES = {
    # case: (edit of the manifest data, pointer in the message, what MLflow itself does with it)
    "metric-name-dotdot": (lambda d: d.setdefault("metrics", {}).update({"a/../b": {"value": 1.0}}), "/metrics/a~1..~1b", "refuses"),
    "param-name-chars": (lambda d: d["params"].update({"lr@1": 1}), "/params/lr@1", "refuses"),
    "param-value-6001": (lambda d: d["params"].update({"long": _LONG}), "/params/long", "truncates"),
    "tag-value-8001": (lambda d: d.update({"tags": {"note": "y" * 8001}}), "/tags/note", "truncates"),
    "tag-name-251": (lambda d: d.update({"tags": {"k" * 251: "v"}}), "/tags/" + "k" * 251, "refuses"),
    "experiment-name-501": (lambda d: d["provenance"]["source"].update({"experiment_name": "e" * 501}), "/provenance/source/experiment_name", "refuses"),
}


def _what_mlflow_does(uri: str, case: str) -> str:
    """Ask MLflow itself (a scratch run of another store) what it does with the case's value."""
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow.MlflowClient(uri)
    exp = client.create_experiment(f"probe-{uuid.uuid4().hex}")
    run_id = client.create_run(exp).info.run_id
    try:
        if case == "metric-name-dotdot":
            client.log_batch(run_id, metrics=[Metric("a/../b", 1.0, 0, 0)])
        elif case == "param-name-chars":
            client.log_batch(run_id, params=[Param("lr@1", "1")])
        elif case == "param-value-6001":
            client.log_batch(run_id, params=[Param("long", _LONG)])
        elif case == "tag-value-8001":
            client.log_batch(run_id, tags=[RunTag("note", "y" * 8001)])
        elif case == "tag-name-251":
            client.log_batch(run_id, tags=[RunTag("k" * 251, "v")])
        else:
            client.create_experiment("e" * 501)
    except mlflow.exceptions.MlflowException:
        return "refuses"
    run = client.get_run(run_id)
    stored = {**run.data.params, **run.data.tags}
    return "truncates" if any(len(v) in (6000, 8000) for v in stored.values()) else "accepts"


@pytest.mark.parametrize("case", sorted(STORE_CASES))
def test_what_mlflow_would_refuse_or_truncate_is_refused_before_anything_is_written(sqlite_uri, tmp_path, case):
    edit, pointer, mlflow_does = STORE_CASES[case]
    assert _what_mlflow_does(f"sqlite:///{tmp_path / 'probe.db'}", case) == mlflow_does  # the rule is MLflow's, not ours
    m = _simple_manifest(tmp_path, sqlite_uri)
    data = load_path(m).data
    edit(data)
    m.write_text(dumps_yaml(data))
    assert run_cli("validate", str(m)).returncode == 0  # a valid manifest: the limit is the store's
    target = f"sqlite:///{tmp_path / 'target.db'}"
    r = run_cli("import", "--tracking-uri", target, str(m))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert f"{pointer}: " in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert ("would cut it" in r.stderr) == (mlflow_does == "truncates"), r.stderr
    assert not (tmp_path / "target.db").exists()  # refused before the store was opened


def test_all_manifests_of_an_import_fit_the_store_before_the_first_is_imported(sqlite_uri, tmp_path):
    good = _simple_manifest(tmp_path, sqlite_uri)
    data = load_path(good).data
    data["id"] = f"urn:uuid:{uuid.uuid4()}"
    data["params"]["lr@1"] = 1
    bad = good.with_name("z-bad.yaml")  # next to the good one: its files resolve, only the name is wrong
    bad.write_text(dumps_yaml(data))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    r = run_cli("import", "--tracking-uri", target, str(good), str(bad))
    assert r.returncode == 1 and "/params/lr@1: " in r.stderr, r.stderr
    assert not (tmp_path / "target.db").exists()


def test_a_server_that_stalls_part_way_gets_fewer_requests_and_the_import_completes(tmp_path):
    """SIGSTOP the server while log-batch requests are in flight, SIGCONT it 13 s later: the requests
    time out (after 10 s: once resumed, a loaded 2-core machine's server works through the abandoned
    requests too, which took longer than 5 s), are sent again with fewer in flight, and every point
    arrives once."""
    import sqlite3

    import psutil

    m = _history_bundle(tmp_path, "stalled")
    server = start_server(tmp_path / "stall")
    procs = [psutil.Process(server.proc.pid), *psutil.Process(server.proc.pid).children(recursive=True)]
    env = dict(os.environ, MLFLOW_HTTP_REQUEST_TIMEOUT="10", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    proc = subprocess.Popen([str(BIN), "import", "--tracking-uri", server.uri, str(m), "--experiment", "stalled", "--jobs", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    db = server.root / "server.db"

    def points() -> int:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                return int(con.execute("SELECT count(*) FROM metrics").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and points() == 0 and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        for p in procs:
            p.suspend()
        time.sleep(13)
        for p in procs:
            p.resume()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "sending again in 2 s, with 2 requests in flight (was 4)" in err, err
        assert points() == 100_000
        run_id = out.strip().splitlines()[-1]
        import mlflow

        assert len(mlflow.MlflowClient(server.uri).get_metric_history(run_id, "loss")) == 100_000
    finally:
        for p in procs:
            if p.is_running():
                p.resume()
        if proc.poll() is None:
            proc.kill()
        server.stop()


def test_mlflows_own_view_run_lines_never_reach_the_terminal(sqlite_uri, auth_server, tmp_path):
    """MLflow prints "🏃 View run NAME at: URL" (with the tracking URI as given, password included)
    when a run on a server ends; the import never shows it, and no line shows the password."""
    m = _simple_manifest(tmp_path, sqlite_uri)
    host = auth_server.uri.split("://", 1)[1]
    uri = f"http://{auth_server.username}:{auth_server.password}@{host}"
    r = run_cli("import", "--tracking-uri", uri, str(m), "--experiment", "masked")
    assert r.returncode == 0, r.stderr
    assert "View run" not in r.stderr and "INFO" not in r.stderr, r.stderr
    assert auth_server.password not in r.stdout + r.stderr
    assert f"imported {m} -> run " in r.stderr

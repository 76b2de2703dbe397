"""`manifest export --all` and the import of its directory, between two real PostgreSQL-backed
`mlflow server` processes: every experiment, run and registered model moved, nothing duplicated
on a second import, and an interrupted import resumed with --skip-existing. Expected values are
read from the source server, never from the tool's own output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent / "manifest"
TESTS = Path(__file__).parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**env, "MLFLOW_DISABLE_TELEMETRY": "true", **extra}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=600, env=_env())


def _client(uri: str) -> Any:
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _fill(uri: str, root: Path) -> dict[str, Any]:
    """The source store: the registry story (runs with models, versions 1, 3, 4, aliases), an
    experiment with a description and tags holding a parent run and two children with histories
    and an artifact, a deleted run, a run still RUNNING, a deleted experiment, and a registered
    model without versions."""
    from mlflow.entities import Metric, Param, RunTag

    script = (
        "import sys, json, mlflow; sys.path.insert(0, sys.argv[2]); mlflow.set_tracking_uri(sys.argv[1]); mlflow.set_registry_uri(sys.argv[1]);"
        "from support.mlflow_runs import registry_story; print(json.dumps(registry_story('registry')))"
    )
    r = subprocess.run([sys.executable, "-c", script, uri, str(TESTS)], capture_output=True, text=True, cwd=root, timeout=600, env=_env())
    assert r.returncode == 0, r.stderr
    c = _client(uri)
    team = c.create_experiment("team/sweeps", tags={"owner": "vision", "mlflow.note.content": "Depth sweeps, nested."})
    parent = c.create_run(team, run_name="sweep", tags={"kind": "parent"})
    for i in range(2):
        child = c.create_run(team, run_name=f"trial-{i}", tags={"mlflow.parentRunId": parent.info.run_id, "kind": "child"})
        c.log_batch(child.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1) + i, 1_700_000_000_000 + s, s) for s in range(30)], params=[Param("depth", str(i))], tags=[RunTag("seed", str(i))])
        (root / f"notes-{i}.txt").write_text(f"trial {i}\n")
        c.log_artifact(child.info.run_id, str(root / f"notes-{i}.txt"))
        c.set_terminated(child.info.run_id)
    c.set_terminated(parent.info.run_id)
    gone = c.create_run(team, run_name="bad")
    c.set_terminated(gone.info.run_id)
    c.delete_run(gone.info.run_id)
    running = c.create_run(team, run_name="still-going")
    old = c.create_experiment("old-project", tags={"status": "abandoned"})
    c.set_terminated(c.create_run(old, run_name="old-run").info.run_id)
    c.delete_experiment(old)
    c.create_registered_model("placeholder-model", tags={"stage": "planned"}, description="No versions yet.")
    return {"deleted": gone.info.run_id, "running": running.info.run_id}


def _experiments(uri: str) -> dict[str, tuple[str, dict[str, str]]]:
    from mlflow.entities import ViewType

    return {e.name: (e.lifecycle_stage, dict(e.tags)) for e in _client(uri).search_experiments(view_type=ViewType.ALL)}


def _runs(uri: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(experiment, run name) -> what a run holds, for the active, ended runs of active experiments."""
    from mlflow.entities import ViewType

    c = _client(uri)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    names: dict[str, str] = {}
    for e in c.search_experiments(view_type=ViewType.ACTIVE_ONLY):
        for r in c.search_runs([e.experiment_id], run_view_type=ViewType.ACTIVE_ONLY):
            names[r.info.run_id] = r.info.run_name
            if r.info.status == "RUNNING":
                continue
            key = (e.name, r.info.run_name)
            assert key not in out, f"run {key} is there twice"
            tags = {k: v for k, v in r.data.tags.items() if not k.startswith(("mlflow.", "manifest."))}
            histories = {m: sorted((p.step, p.timestamp, p.value) for p in c.get_metric_history(r.info.run_id, m)) for m in r.data.metrics}
            files = sorted(a.path for a in c.list_artifacts(r.info.run_id) if a.path != "manifest-context")
            out[key] = {"params": dict(r.data.params), "tags": tags, "histories": histories, "status": r.info.status, "start": r.info.start_time,
                        "parent": r.data.tags.get("mlflow.parentRunId"), "files": files}
    for v in out.values():  # parents by name: ids differ between the stores
        v["parent"] = names.get(v["parent"]) if v["parent"] else None
    return out


def _registry(uri: str) -> dict[str, Any]:
    c = _client(uri)
    out = {}
    for rm in c.search_registered_models():
        versions = {int(mv.version): (mv.description, dict(mv.tags)) for mv in c.search_model_versions(f"name='{rm.name}'")}
        out[rm.name] = {"description": rm.description, "tags": dict(rm.tags), "aliases": dict(c.get_registered_model(rm.name).aliases), "versions": versions}
    return out


@pytest.fixture(scope="module")
def two_servers(postgres_cluster, tmp_path_factory):
    from support.mlflow_env import start_server

    servers = []
    try:
        for name in ("source", "target"):
            store = postgres_cluster.uri(postgres_cluster.create_database(f"whole_{name}"), driver=None)
            servers.append(start_server(tmp_path_factory.mktemp(f"whole-{name}"), backend_store_uri=store))
        yield servers
    finally:
        for s in servers:
            s.stop()


@pytest.fixture(scope="module")
def moved(two_servers, tmp_path_factory) -> dict[str, Any]:
    source, target = two_servers
    root = tmp_path_factory.mktemp("whole-store")
    left_out = _fill(source.uri, root)
    e = _cli("export", "--all", "--tracking-uri", source.uri, "-o", str(root / "store"), cwd=root)
    assert e.returncode == 0, e.stderr
    i = _cli("import", str(root / "store"), "--tracking-uri", target.uri, cwd=root)
    assert i.returncode == 0, i.stderr
    return {"source": source.uri, "target": target.uri, "root": root, "export": e, "import": i, "left_out": left_out}


def test_every_experiment_arrives_with_its_tags_and_lifecycle(moved):
    source = _experiments(moved["source"])
    assert set(source) == {"Default", "registry", "team/sweeps", "old-project"}
    assert _experiments(moved["target"]) == source


def test_every_ended_run_arrives_once_with_its_params_tags_points_files_and_parent(moved):
    source = _runs(moved["source"])
    assert len(source) == 4 + 3  # the story's four trainings (version 2 was deleted, its run stays) + the sweep and its two trials
    target = _runs(moved["target"])
    assert target == source
    assert target[("team/sweeps", "trial-1")]["parent"] == "sweep"


def test_the_registry_arrives_with_its_numbers_aliases_tags_and_an_empty_model(moved):
    source = _registry(moved["source"])
    assert sorted(source["iris-classifier"]["versions"]) == [1, 3, 4] and source["placeholder-model"]["versions"] == {}
    assert _registry(moved["target"]) == source


def test_what_was_left_out_is_named_in_the_index_and_both_closing_reports(moved):
    index = json.loads((moved["root"] / "store" / "export-index.json").read_text())
    assert index["index_version"] == "1.1" and index["selection"] == {"all": True}
    left = {x["id"]: x["reason"] for x in index["not_exported"]}
    assert "deleted" in left[moved["left_out"]["deleted"]] and "RUNNING" in left[moved["left_out"]["running"]]
    for out in (moved["export"].stderr, moved["import"].stderr):
        assert moved["left_out"]["deleted"] in out and moved["left_out"]["running"] in out
    assert "runs: 7 imported, 0 already there (skipped), 0 not imported, of 7" in moved["import"].stderr


def test_a_second_import_duplicates_nothing_and_resumes_what_is_missing(moved):
    before = _runs(moved["target"])
    again = _cli("import", str(moved["root"] / "store"), "--tracking-uri", moved["target"], cwd=moved["root"])
    assert again.returncode == 5 and "already imported" in again.stderr, again.stderr
    c = _client(moved["target"])
    from mlflow.entities import ViewType

    team = c.get_experiment_by_name("team/sweeps")
    lost = [r for r in c.search_runs([team.experiment_id], run_view_type=ViewType.ACTIVE_ONLY) if r.info.run_name.startswith("trial-")]
    for r in lost:  # as if the first import had stopped before these
        c.delete_run(r.info.run_id)
    resumed = _cli("import", str(moved["root"] / "store"), "--tracking-uri", moved["target"], "--skip-existing", cwd=moved["root"])
    assert resumed.returncode == 0, resumed.stderr
    assert "runs: 2 imported, 5 already there (skipped), 0 not imported, of 7" in resumed.stderr
    after = _runs(moved["target"])
    assert after == before
    assert after[("team/sweeps", "trial-0")]["parent"] == "sweep"


def _manifest(d: Path, name: str, run_id: str, parent: str | None = None, artifact: bytes | None = None) -> Path:
    import hashlib
    import uuid

    from support.paths import minimal

    from manifest.document.writer import dumps_yaml

    data = minimal()
    data.update({"id": f"urn:uuid:{uuid.uuid4()}", "name": name, "params": {"i": name}})
    data["provenance"]["source"] = {"system": "mlflow", "run_id": run_id, "experiment_name": "keep-going"}
    if parent:
        data["run"]["parent"] = {"run_id": parent}
    if artifact is not None:
        (d / f"{name}.artifacts").mkdir(parents=True)
        (d / f"{name}.artifacts" / "notes.txt").write_bytes(artifact)
        data["artifacts"] = [{"path": "notes.txt", "kind": "file", "size": len(artifact), "digest": {"sha256": hashlib.sha256(artifact).hexdigest()}, "local_path": f"{name}.artifacts/notes.txt"}]
    (d / f"{name}.yaml").write_text(dumps_yaml(data))
    return d / f"{name}.yaml"


def test_keep_going_imports_the_others_names_each_failure_and_leaves_no_finished_partial_run(sqlite_uri, tmp_path):
    """A run whose upload fails (its checked, staged artifact copy is gone by then) is cleaned up;
    its child is not imported (its parent failed); the unrelated runs are; one error names both."""
    from mlflow.entities import ViewType

    from manifest.core.problems import ManifestError
    from manifest.tracking.importing.batch import import_paths
    from manifest.tracking.importing.options import ImportOptions
    from manifest.tracking.importing.prepare import prepare_paths
    from manifest.tracking.store import client

    d = tmp_path / "runs"
    d.mkdir()
    _manifest(d, "a-fine", "r-a")
    _manifest(d, "b-broken", "r-b", artifact=b"notes\n")
    _manifest(d, "c-child", "r-c", parent="r-b")
    _manifest(d, "d-fine", "r-d")
    prepared = prepare_paths([str(d)])
    broken = next(p for p in prepared if p.data["name"] == "b-broken")
    for staged in broken.artifact_files.values():
        staged.unlink()
    imported: list[str] = []
    with pytest.raises(ManifestError) as caught:
        import_paths(client(sqlite_uri, check=False), prepared, tracking_uri=sqlite_uri, options=ImportOptions(keep_going=True, workers=2, imported=lambda f, r: imported.append(Path(f).stem)))
    text = "\n".join(f"{p.file}: {p.code}: {p.message}" for p in caught.value.problems)
    assert "b-broken.yaml" in text and "c-child.yaml: parent-not-imported" in text and "2 of 4 runs were not imported (2 were)" in text, text
    assert sorted(imported) == ["a-fine", "d-fine"]
    c = _client(sqlite_uri)
    runs = c.search_runs([c.get_experiment_by_name("keep-going").experiment_id], run_view_type=ViewType.ALL)
    by_name = {r.info.run_name: r for r in runs}
    assert sorted(by_name) == ["a-fine", "b-broken", "d-fine"]
    left = by_name["b-broken"]
    assert (left.info.status, left.info.lifecycle_stage) == ("FAILED", "deleted") and left.data.tags["manifest.import.error"]
    assert all(by_name[n].info.status == "FINISHED" and by_name[n].info.lifecycle_stage == "active" for n in ("a-fine", "d-fine"))

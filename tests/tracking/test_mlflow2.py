"""Migrating from MLflow 2 to MLflow 3: a real MLflow 2.22 server (its own venv, ``make tools``),
filled by MLflow 2's own logging code, exported over REST by this project's MLflow 3 client
(``--experiment`` and ``--model``, with models), imported into an MLflow 3 SQLite store.

The MLflow 2 server has no LoggedModels API: its models are run-artifact directories holding
``MLmodel``. Each must become an MLflow 3 logged model with the same files, and the registry its
versions pointed at must come back with the same numbers (a deleted one a gap), aliases, tags and
descriptions. Every expected value is read from the source: over REST with MLflow's own client,
and the model files from the server's artifact directory on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from support.mlflow2 import EXPERIMENT, MLFLOW2_VERSION, REGISTERED, begin_populate, finish_populate, mlflow2_server, venv_missing
from support.mlflow_env import tracking

from manifest.document.reader import load_path

#: One worker runs this file (``--dist loadfile``): one MLflow 2 server, one export, one import;
#: the tests that use them are marked ``e2e`` one by one (the mapping of sources is a unit test).
e2e = pytest.mark.e2e

BIN = Path(sys.executable).parent / "manifest"
#: The one file an import changes on purpose (spec A.8): ``MLmodel`` names the new run and model.
REWRITTEN = {"run_id", "model_id"}


@dataclass
class Migration:
    made: dict[str, Any]  # what the MLflow 2 script says it made
    source: dict[str, Any]  # what the source server holds, read back
    artifacts: Path  # the source server's artifact directory
    experiment_export: subprocess.CompletedProcess[str]
    experiment_dir: Path
    model_export: subprocess.CompletedProcess[str]
    model_dir: Path
    imported: subprocess.CompletedProcess[str]
    target: str


def _start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """The installed ``manifest`` command, without this process's MLflow URIs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.Popen([str(BIN), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)


def _finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, f"{' '.join(map(str, proc.args))} exited {proc.returncode}:\n{err}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _manifest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _finish(_start(cwd, *args))


def _read_source(uri: str, made: dict[str, Any]) -> dict[str, Any]:
    """The source runs and registry as MLflow's own client reads them over REST."""
    import mlflow  # lazy: MLflow (1.5 s) only for the tests that use it

    client = mlflow.MlflowClient(uri, registry_uri=uri)
    runs = {}
    for name, run_id in made["runs"].items():
        r = client.get_run(run_id)
        runs[name] = {
            "info": (r.info.status, r.info.start_time, r.info.end_time),
            "params": dict(r.data.params),
            "tags": dict(r.data.tags),
            "histories": {k: [(m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, k)] for k in r.data.metrics},
        }
    try:
        client.search_logged_models(experiment_ids=[made["experiment_id"]])
        api = "present"
    except mlflow.exceptions.MlflowException as exc:
        api = exc.error_code
    exp = client.get_experiment(made["experiment_id"])
    return {"runs": runs, "registry": _registry(client, REGISTERED, {v: k for k, v in made["runs"].items()}), "logged_models_api": api, "experiment": (exp.name, exp.lifecycle_stage, dict(exp.tags))}


def _registry(client: Any, name: str, run_names: dict[str, str]) -> dict[str, Any]:
    """A registered model as a user sees it: versions (number -> run name, description, tags),
    aliases, description, tags."""
    rm = client.get_registered_model(name)
    versions = {int(mv.version): (run_names.get(mv.run_id), mv.description, dict(mv.tags)) for mv in client.search_model_versions(f"name='{name}'")}
    return {"versions": dict(sorted(versions.items())), "aliases": {a: int(v) for a, v in rm.aliases.items()}, "description": rm.description, "tags": dict(rm.tags)}


@pytest.fixture(scope="session")
def mlflow2_venv() -> None:
    """Skip (only) when the MLflow 2 venv was not made; the reason says how to make it."""
    why = venv_missing()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def migration(mlflow2_venv: None, tmp_path_factory: pytest.TempPathFactory) -> Migration:
    root = tmp_path_factory.mktemp("mlflow2")
    exp_dir, model_dir, target = root / "experiment", root / "model", f"sqlite:///{root}/target.db"
    started = [begin_populate(root / "populate")]  # imports MLflow 2 while the server starts
    try:
        with mlflow2_server(root / "source") as server:
            made = finish_populate(started[0], server)
            source = _read_source(server.uri, made)
            exp = _manifest(root, "export", "--tracking-uri", server.uri, "--all", "-o", str(exp_dir))  # the whole store, as teams move it
            # the import needs only the export: it runs while the second export reads the server
            started.append(_start(root, "import", "--tracking-uri", target, str(exp_dir)))  # the target's artifacts go to root/mlruns
            mod = _manifest(root, "export", "--tracking-uri", server.uri, "--model", REGISTERED, "--with-models", "-o", str(model_dir))
            imported = _finish(started[1])
    finally:
        for proc in started:  # only when something above failed
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return Migration(made, source, root / "source" / "artifacts" / made["experiment_id"], exp, exp_dir, mod, model_dir, imported, target)


@pytest.fixture(scope="module")
def target(migration: Migration) -> Any:
    import mlflow  # lazy: MLflow (1.5 s)

    return mlflow.MlflowClient(migration.target, registry_uri=migration.target)


def _copies(migration: Migration, client: Any) -> dict[str, Any]:
    """The target's runs by run name, each the copy of the source run of that name."""
    exp = client.get_experiment_by_name(EXPERIMENT)
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    assert {name: r.data.tags["manifest.source.run_id"] for name, r in runs.items()} == migration.made["runs"]
    return runs


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _model_files(lm: Any, dst: Path) -> Path:
    import mlflow  # lazy: MLflow (1.5 s)

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location, dst_path=str(dst)))


# --------------------------------------------------------------------------- registry sources of MLflow 2

RUN = "0123456789abcdef0123456789abcdef"
ROOT_URI = f"mlflow-artifacts:/7/{RUN}/artifacts"


@pytest.mark.parametrize(("source", "path"), [
    (f"runs:/{RUN}/model", "model"),  # create_model_version with a runs:/ URI
    (f"runs:/{RUN}/models/rf/", "models/rf"),
    (f"{ROOT_URI}/model", "model"),  # mlflow.register_model: the resolved artifact URI
    (f"mlflow-artifacts://10.0.0.5:5000/7/{RUN}/artifacts/model", "model"),  # another spelling of the same place
    (f"s3://bucket/mlflow/7/{RUN}/artifacts/extra/model.v2", "extra/model.v2"),  # a server that hands out its store's URIs
    ("runs:/ffffffffffffffffffffffffffffffff/model", None),  # another run's model
    (f"runs:/{RUN}", None),  # the whole run is no model directory
    (ROOT_URI, None),
    ("models:/m-0123456789abcdef0123456789abcdef", None),  # an MLflow 3 logged model
    ("s3://bucket/somewhere/else/model", None),
])
def test_an_mlflow_2_version_source_names_a_directory_of_its_run(source: str, path: str | None):
    from manifest.tracking.exporting.registry import run_artifact_path  # lazy: the tracking layer imports MLflow (1.5 s)

    assert run_artifact_path(source, RUN, ROOT_URI) == path


# --------------------------------------------------------------------------- the source


@e2e
def test_the_source_is_an_mlflow_2_server_without_logged_models(migration: Migration):
    assert migration.made["mlflow_version"] == MLFLOW2_VERSION
    assert migration.source["logged_models_api"] == "ENDPOINT_NOT_FOUND"  # a 404: MLflow 2 has no LoggedModels
    assert migration.source["registry"] == {
        "versions": {1: ("logreg-c0.5", "C = 0.5", {"validated": "no"}), 3: ("logreg-c2.0", "C = 2.0, validated", {"validated": "yes"})},
        "aliases": {"baseline": 1, "champion": 3}, "description": "Iris species, MLflow 2 era.", "tags": {"owner": "vision"},
    }
    # the sources MLflow 2 wrote: the artifact URI (register_model) and runs:/ (create_model_version)
    a, b = migration.made["runs"]["logreg-c0.5"], migration.made["runs"]["logreg-c2.0"]
    assert migration.made["versions"] == {"1": f"mlflow-artifacts:/{migration.made['experiment_id']}/{a}/artifacts/model", "3": f"runs:/{b}/model"}
    history = json.loads(migration.source["runs"]["logreg-c2.0"]["tags"]["mlflow.log-model.history"])
    assert sorted(h["artifact_path"] for h in history) == ["extra/model.v2", "model"]  # "saved" is not in it
    assert (migration.artifacts / b / "artifacts" / "saved" / "MLmodel").is_file()


# --------------------------------------------------------------------------- the export


@e2e
def test_the_export_maps_each_run_artifact_model_to_a_model_entry(migration: Migration):
    b = migration.made["runs"]["logreg-c2.0"]
    [path] = [p for p in migration.experiment_dir.glob("experiments/*/logreg-c2.0-*.yaml")]
    data = load_path(path).data
    by_name = {m["name"]: m for m in data["models"]}
    assert sorted(by_name) == ["extra/model.v2", "model", "saved"]
    history = {h["artifact_path"]: h for h in json.loads(migration.source["runs"]["logreg-c2.0"]["tags"]["mlflow.log-model.history"])}
    for name, m in by_name.items():
        assert m["uri"] == f"runs:/{b}/{name}"
        on_disk = migration.artifacts / b / "artifacts" / name
        assert {f["path"]: f["digest"]["sha256"] for f in m["files"]} == _digests(on_disk)
        assert _digests(path.parent / m["local_path"]) == _digests(on_disk)  # --with-models shipped them
        mlmodel = yaml.safe_load((on_disk / "MLmodel").read_text())
        assert m["id"] == mlmodel["model_uuid"]
        assert m["flavors"] == sorted(mlmodel["flavors"])
        assert m["created_at"] == mlmodel["utc_time_created"][:23].replace(" ", "T") + "Z"  # to the millisecond
        if name in history:
            assert m["id"] == history[name]["model_uuid"]
    assert by_name["model"]["registered"] == [{"name": REGISTERED, "version": "3", "aliases": ["champion"], "description": "C = 2.0, validated", "tags": {"validated": "yes"}}]
    assert "registered" not in by_name["saved"] and "registered" not in by_name["extra/model.v2"]


@e2e
def test_a_version_whose_source_is_no_model_is_named_not_dropped(migration: Migration):
    notes = f"{REGISTERED}-notes"
    assert f"registered model {notes!r} version 1: its source" in migration.experiment_export.stderr
    assert "is neither a logged model nor a model directory" in migration.experiment_export.stderr


@e2e
def test_the_model_export_indexes_every_version_with_the_gap(migration: Migration):
    index = json.loads((migration.model_dir / "export-index.json").read_text())
    [rm] = index["registered_models"]
    files = {r["run_id"]: r["file"] for r in index["runs"]}
    a, b = migration.made["runs"]["logreg-c0.5"], migration.made["runs"]["logreg-c2.0"]
    uuid = {run: yaml.safe_load((migration.artifacts / run / "artifacts" / "model" / "MLmodel").read_text())["model_uuid"] for run in (a, b)}
    assert rm == {
        "name": REGISTERED, "description": "Iris species, MLflow 2 era.", "tags": {"owner": "vision"},
        "aliases": {"baseline": "1", "champion": "3"}, "complete": True,
        "versions": [
            {"version": "1", "run_id": a, "model_id": uuid[a], "file": files[a], "description": "C = 0.5", "tags": {"validated": "no"}},
            {"version": "3", "run_id": b, "model_id": uuid[b], "file": files[b], "description": "C = 2.0, validated", "tags": {"validated": "yes"}},
        ],
    }


@e2e
def test_the_exported_manifests_and_index_are_valid(migration: Migration):
    manifests = sorted(str(p) for d, pattern in ((migration.experiment_dir, "experiments/*/*.yaml"), (migration.model_dir, "*.yaml")) for p in d.glob(pattern))
    r = subprocess.run([str(BIN), "validate", *manifests], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and len(manifests) == 4, r.stdout + r.stderr
    for d in (migration.experiment_dir, migration.model_dir):
        index = json.loads((d / "export-index.json").read_text())
        schema = json.loads((Path(__file__).parents[2] / "schemas" / f"export-index-{index['index_version']}.schema.json").read_text())
        assert list(Draft202012Validator(schema).iter_errors(index)) == []


@e2e
def test_the_whole_store_export_lists_the_experiment_and_what_it_could_not_take(migration: Migration):
    index = json.loads((migration.experiment_dir / "export-index.json").read_text())
    assert index["selection"] == {"all": True} and index["index_version"] == "1.1"
    name, stage, tags = migration.source["experiment"]
    [entry] = [e for e in index["experiments"] if e["name"] == name]
    assert (entry["lifecycle_stage"], entry.get("tags", {})) == (stage, tags)
    notes = {m["name"]: m for m in index["registered_models"]}[f"{REGISTERED}-notes"]
    assert [v["version"] for v in notes["versions"]] == ["1"] and "missing" in notes["versions"][0]


# --------------------------------------------------------------------------- the import


@e2e
def test_the_experiment_arrives_with_its_tags_and_the_report_names_what_did_not(migration: Migration, target: Any):
    name, stage, tags = migration.source["experiment"]
    exp = target.get_experiment_by_name(name)
    assert (exp.lifecycle_stage, dict(exp.tags)) == (stage, tags)
    assert f"model version {REGISTERED}-notes/1:" in migration.imported.stderr
    assert "runs: 2 imported, 0 already there (skipped), 0 not imported, of 2" in migration.imported.stderr


@e2e
def test_runs_arrive_with_params_histories_tags_and_artifacts(migration: Migration, target: Any, tmp_path: Path):
    for name, copy in _copies(migration, target).items():
        src = migration.source["runs"][name]
        assert (copy.info.status, copy.info.start_time, copy.info.end_time) == src["info"]
        assert dict(copy.data.params) == src["params"]
        assert {k: [(m.step, m.timestamp, m.value) for m in target.get_metric_history(copy.info.run_id, k)] for k in copy.data.metrics} == src["histories"]
        # every tag but the one naming source-store ids (spec A.8), plus the import's lineage tags
        assert {k: v for k, v in copy.data.tags.items() if not k.startswith("manifest.")} == {k: v for k, v in src["tags"].items() if k != "mlflow.log-model.history"}
        got = Path(target.download_artifacts(copy.info.run_id, "notes/readme.txt", str(tmp_path)))
        assert got.read_bytes() == (migration.artifacts / migration.made["runs"][name] / "artifacts" / "notes" / "readme.txt").read_bytes()


@e2e
def test_each_run_artifact_model_becomes_a_logged_model_with_the_same_files(migration: Migration, target: Any, tmp_path: Path):
    from mlflow.entities import LoggedModelStatus  # lazy: MLflow (1.5 s)

    renamed = {"model": "model", "saved": "saved", "extra/model.v2": "extra_model_v2"}  # MLflow 3 refuses '/' and '.' in a model name
    for name, copy in _copies(migration, target).items():
        source_dir = migration.artifacts / migration.made["runs"][name] / "artifacts"
        made = {lm.name: lm for lm in target.search_logged_models(experiment_ids=[copy.info.experiment_id], filter_string=f"source_run_id = '{copy.info.run_id}'")}
        expected = {renamed[p]: p for p in renamed if (source_dir / p / "MLmodel").is_file()}
        assert sorted(made) == sorted(expected)
        assert sorted(o.model_id for o in copy.outputs.model_outputs) == sorted(lm.model_id for lm in made.values())
        for new_name, path in expected.items():
            lm = made[new_name]
            assert lm.status == LoggedModelStatus.READY
            files = _model_files(lm, tmp_path / lm.model_id)
            want, got = _digests(source_dir / path), _digests(files)
            assert sorted(got) == sorted(want)
            assert {k: v for k, v in got.items() if k != "MLmodel"} == {k: v for k, v in want.items() if k != "MLmodel"}
            old, new = yaml.safe_load((source_dir / path / "MLmodel").read_text()), yaml.safe_load((files / "MLmodel").read_text())
            assert (new["run_id"], new["model_id"]) == (copy.info.run_id, lm.model_id)
            assert {k: v for k, v in new.items() if k not in REWRITTEN} == {k: v for k, v in old.items() if k not in REWRITTEN}
    assert "warning: model 'extra/model.v2' is created as 'extra_model_v2'" in migration.imported.stderr


@e2e
def test_the_registry_arrives_with_its_numbers_gap_aliases_tags_and_descriptions(migration: Migration, target: Any):
    copies = _copies(migration, target)
    assert _registry(target, REGISTERED, {r.info.run_id: n for n, r in copies.items()}) == migration.source["registry"]
    with pytest.raises(Exception) as gone:  # the source's deleted version 2 is a gap here too
        target.get_model_version(REGISTERED, "2")
    assert getattr(gone.value, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"
    for number, (run_name, _, _) in migration.source["registry"]["versions"].items():
        mv = target.get_model_version(REGISTERED, str(number))
        [lm] = [m for m in target.search_logged_models(experiment_ids=[copies[run_name].info.experiment_id], filter_string=f"source_run_id = '{copies[run_name].info.run_id}'") if m.name == "model"]
        assert mv.source == lm.artifact_location  # the version serves the migrated logged model


@e2e
def test_the_migrated_champion_predicts_what_the_source_model_did(migration: Migration):
    """The model behind ``models:/NAME@champion``, loaded in MLflow 3, and the copy's
    ``runs:/RUN_ID/model``, the kind of URI code written for MLflow 2 loads models by."""
    import mlflow  # lazy: MLflow (1.5 s)
    from sklearn.datasets import load_iris  # lazy: scikit-learn, for this test alone

    X, _ = load_iris(return_X_y=True)
    with tracking(migration.target):
        champion = mlflow.pyfunc.load_model(f"models:/{REGISTERED}@champion")
        assert champion.predict(X[::10]).tolist() == migration.made["predictions"]["logreg-c2.0"]
        copy = mlflow.MlflowClient().search_runs([mlflow.get_experiment_by_name(EXPERIMENT).experiment_id], "attributes.run_name = 'logreg-c0.5'")[0]
        assert mlflow.pyfunc.load_model(f"runs:/{copy.info.run_id}/model").predict(X[::10]).tolist() == migration.made["predictions"]["logreg-c0.5"]

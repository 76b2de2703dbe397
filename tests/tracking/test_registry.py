"""The model registry copied as it was, on real SQLite stores and a real `mlflow server`: the
same version numbers (a deleted version kept as a gap), every alias, tags and descriptions;
`export --model NAME|NAME@ALIAS|NAME/VERSION`; an import into a registered model that has
versions refused unless --registry-merge; an interrupted import resumed; an alias rolled back
on the copy as on the original."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: One worker runs this file (``--dist loadfile``), so its store and export are made once.
pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent / "manifest"
NAME = "iris-classifier"


def _clean_env() -> dict[str, str]:
    """This process's environment without the MLflow URIs other tests of this worker may have set."""
    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}


def _registry(uri: str, name: str = NAME, env: dict[str, str] | None = None) -> dict[str, Any]:
    """What a user sees of a registered model: versions (number -> run name, description, tags),
    aliases, the model's description and tags."""
    import mlflow

    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = mlflow.MlflowClient(uri, registry_uri=uri)
        rm = client.get_registered_model(name)
        versions = {}
        for mv in client.search_model_versions(f"name='{name}'"):
            run = client.get_run(mv.run_id)
            versions[int(mv.version)] = (run.info.run_name, mv.description, dict(mv.tags))
        return {"versions": dict(sorted(versions.items())), "aliases": {a: int(v) for a, v in rm.aliases.items()}, "description": rm.description, "tags": dict(rm.tags)}
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: What :func:`support.mlflow_runs.registry_story` makes, written out by hand.
STORY = {
    "versions": {
        1: ("depth-1", "depth 1", {"validated": "yes"}),
        3: ("depth-3", "depth 3", {"validated": "yes"}),
        4: ("depth-4", "depth 4", {"validated": "yes"}),
    },
    "aliases": {"champion": 3, "challenger": 4},
    "description": "Iris species from four measurements.",
    "tags": {"team": "vision"},
}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A source SQLite store holding the registry story, and its export with --model NAME."""
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root}/src.db"
    script = (
        "import sys, mlflow; sys.path.insert(0, sys.argv[2]); mlflow.set_tracking_uri(sys.argv[1]); mlflow.set_registry_uri(sys.argv[1]);"
        "from support.mlflow_runs import registry_story; import json; print(json.dumps(registry_story('registry')))"
    )
    r = subprocess.run([sys.executable, "-c", script, uri, str(Path(__file__).parents[1])], capture_output=True, text=True, cwd=root, timeout=600, env={**_clean_env(), "MLFLOW_DISABLE_TELEMETRY": "true"})
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout.strip().splitlines()[-1])
    out = root / "export"
    e = subprocess.run([str(BIN), "export", "--model", NAME, "--tracking-uri", uri, "-o", str(out)], capture_output=True, text=True, cwd=root, timeout=600)
    assert e.returncode == 0, e.stderr
    return {"root": root, "uri": uri, "runs": runs, "export": out}


def test_the_source_store_holds_the_story(story):
    assert _registry(story["uri"]) == STORY


def test_the_index_lists_every_version_in_order_with_aliases(story):
    index = json.loads((story["export"] / "export-index.json").read_text())
    [rm] = index["registered_models"]
    assert rm["name"] == NAME and rm["complete"] is True
    assert [v["version"] for v in rm["versions"]] == ["1", "3", "4"]
    assert [v["run_id"] for v in rm["versions"]] == [story["runs"]["1"], story["runs"]["3"], story["runs"]["4"]]
    assert rm["aliases"] == {"challenger": "4", "champion": "3"}
    assert index["selection"] == {"model": NAME}
    assert sorted(r["run_id"] for r in index["runs"]) == sorted(story["runs"].values())


def test_the_index_is_valid_against_its_json_schema(story):
    from jsonschema import Draft202012Validator

    index = json.loads((story["export"] / "export-index.json").read_text())
    assert index["index_version"] == "1.1"  # what this tool writes (spec/export-1.1.md)
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "export-index-1.1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(index)) == []


def test_a_copy_has_the_same_registry_and_rolls_back_as_the_original(story, tmp_path):
    """The same versions, aliases, tags and descriptions; then the seed's story: champion moves
    3 -> 4 and is rolled back to 3, and at each step the copy's alias serves the same model as the
    original's (the run behind ``models:/NAME@champion``), its own copy of it."""
    import mlflow

    uri = f"sqlite:///{tmp_path}/dst.db"
    r = subprocess.run([str(BIN), "import", "--tracking-uri", uri, str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.split()) == 3  # three new run ids
    assert "version 2: a deleted placeholder (deleted in the source)" in r.stderr
    assert _registry(uri) == STORY
    src, dst = mlflow.MlflowClient(story["uri"], registry_uri=story["uri"]), mlflow.MlflowClient(uri, registry_uri=uri)
    try:
        for step in ("4", "3"):
            for c in (src, dst):
                c.set_registered_model_alias(NAME, "champion", step)
            a, b = src.get_model_version_by_alias(NAME, "champion"), dst.get_model_version_by_alias(NAME, "champion")
            assert src.get_run(a.run_id).data.params["max_depth"] == dst.get_run(b.run_id).data.params["max_depth"] == step
            assert b.run_id != a.run_id and dst.get_run(b.run_id).data.tags["manifest.source.run_id"] == a.run_id  # the copy's own run, copied from the original's
    finally:
        src.set_registered_model_alias(NAME, "champion", "3")


def test_importing_into_a_registered_model_with_versions_is_refused_unless_merged(story, tmp_path):
    uri = f"sqlite:///{tmp_path}/dst.db"
    assert subprocess.run([str(BIN), "import", "--tracking-uri", uri, str(story["export"])], capture_output=True, cwd=tmp_path, timeout=600).returncode == 0
    again = subprocess.run([str(BIN), "import", "--tracking-uri", uri, "--allow-duplicate", str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 5, again.stderr
    assert "registered model 'iris-classifier' already has versions 1, 3, 4 in the target store" in again.stderr
    assert again.stdout == ""  # refused before any run was made
    merged = subprocess.run([str(BIN), "import", "--tracking-uri", uri, "--allow-duplicate", "--registry-merge", str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert merged.returncode == 0, merged.stderr
    reg = _registry(uri)
    assert sorted(reg["versions"]) == [1, 3, 4, 5, 6, 7]  # appended in source order, no placeholder
    assert [reg["versions"][n][0] for n in (5, 6, 7)] == ["depth-1", "depth-3", "depth-4"]
    assert reg["aliases"] == {"champion": 6, "challenger": 7}  # moved to the appended versions


def test_no_registry_imports_the_runs_alone(story, tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path}/dst.db"
    r = subprocess.run([str(BIN), "import", "--tracking-uri", uri, "--no-registry", str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    assert mlflow.MlflowClient(uri, registry_uri=uri).search_registered_models() == []


@pytest.mark.parametrize(("spec", "versions", "aliases"), [(f"{NAME}@champion", [3], {"champion": 3}), (f"{NAME}/4", [4], {"challenger": 4})])
def test_one_version_by_alias_or_number_keeps_its_number(story, tmp_path, spec, versions, aliases):
    out = tmp_path / "one"
    e = subprocess.run([str(BIN), "export", "--model", spec, "--tracking-uri", story["uri"], "-o", str(out)], capture_output=True, text=True, cwd=story["root"], timeout=600)
    assert e.returncode == 0, e.stderr
    uri = f"sqlite:///{tmp_path}/dst.db"
    r = subprocess.run([str(BIN), "import", "--tracking-uri", uri, str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    reg = _registry(uri)
    assert sorted(reg["versions"]) == versions
    assert reg["aliases"] == aliases
    assert "(not in the export)" in r.stderr  # the lower numbers are placeholders


@pytest.mark.parametrize(("spec", "message"), [
    ("no-such-model", "registered model 'no-such-model' does not exist"),
    (f"{NAME}@nobody", "has no alias 'nobody' (its aliases: challenger, champion)"),
    (f"{NAME}/2", "has no version '2' (its versions: 1, 3, 4)"),
])
def test_an_unknown_model_alias_or_version_is_not_found(story, tmp_path, spec, message):
    e = subprocess.run([str(BIN), "export", "--model", spec, "--tracking-uri", story["uri"], "-o", str(tmp_path / "x")], capture_output=True, text=True, cwd=story["root"], timeout=600)
    assert e.returncode == 4, e.stderr
    assert message in e.stderr


def test_an_interrupted_import_resumes_with_its_registry(story, tmp_path):
    """An import that stopped after two runs and their versions (1, the placeholder 2, and 3, as
    an import of those two files makes them), resumed with --skip-existing on the directory: the
    versions made before are recognised by their runs, no number is used twice, and the registry
    ends as the source's."""
    uri = f"sqlite:///{tmp_path}/dst.db"
    half = [str(next(story["export"].glob(f"depth-{d}-*.yaml"))) for d in (1, 3)]
    r = subprocess.run([str(BIN), "import", "--tracking-uri", uri, *half], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sorted(_registry(uri)["versions"]) == [1, 3]
    resumed = subprocess.run([str(BIN), "import", "--tracking-uri", uri, "--skip-existing", str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert len(resumed.stdout.split()) == 1  # only depth-4 was left
    assert "warning" not in resumed.stderr, resumed.stderr
    assert _registry(uri) == STORY


def test_a_second_export_into_the_directory_extends_its_index(story, tmp_path):
    """Versions exported one at a time into one directory: the index keeps both (and the alias of
    the one exported first), and a re-export with --force keeps the other's entry."""
    out = tmp_path / "one-by-one"
    for spec in (f"{NAME}/1", f"{NAME}/3", f"{NAME}/1"):
        force = ("--force",) if spec == f"{NAME}/1" and out.exists() else ()
        e = subprocess.run([str(BIN), "export", "--model", spec, "--tracking-uri", story["uri"], "-o", str(out), *force], capture_output=True, text=True, cwd=story["root"], timeout=600)
        assert e.returncode == 0, e.stderr
    index = json.loads((out / "export-index.json").read_text())
    [rm] = index["registered_models"]
    assert [v["version"] for v in rm["versions"]] == ["1", "3"] and rm["aliases"] == {"champion": "3"} and rm["complete"] is False
    assert len(index["runs"]) == 2
    uri = f"sqlite:///{tmp_path}/dst.db"
    r = subprocess.run([str(BIN), "import", "--tracking-uri", uri, str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    reg = _registry(uri)
    assert sorted(reg["versions"]) == [1, 3] and reg["aliases"] == {"champion": 3}


def test_register_model_naming_a_recreated_model_is_a_usage_error(story, tmp_path):
    r = subprocess.run([str(BIN), "import", "--tracking-uri", f"sqlite:///{tmp_path}/dst.db", "--register-model", NAME, str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 2, r.stderr
    assert f"--register-model '{NAME}' names a registered model this import recreates" in r.stderr and r.stdout == ""


def test_a_manifest_changed_after_export_is_refused_by_the_index(story, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(story["export"], copy)
    m = sorted(copy.glob("depth-3-*.yaml"))[0]
    m.write_text(m.read_text().replace("depth-3", "depth-3b", 1))
    r = subprocess.run([str(BIN), "import", "--tracking-uri", f"sqlite:///{tmp_path}/dst.db", str(copy)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 6, r.stderr
    assert f"{m.name} differs from its SHA-256 in the index" in r.stderr
    assert "export-index.json:" in r.stderr  # file:line:column of the entry


def test_the_registry_is_copied_to_a_real_server(story, mlflow_server, tmp_path):
    r = subprocess.run([str(BIN), "import", "--tracking-uri", mlflow_server.uri, "--experiment", "registry-copy", str(story["export"])], capture_output=True, text=True, cwd=tmp_path, timeout=600, env={**os.environ, **mlflow_server.env()})
    assert r.returncode == 0, r.stderr
    assert _registry(mlflow_server.uri, env=mlflow_server.env()) == STORY

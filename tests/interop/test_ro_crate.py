"""RO-Crate of a bundle and of one manifest: checked by roc-validator for the Process Run Crate
profile (its own venv, ``make tools``; offline, its HTTP cache filled from the JSON-LD contexts in
``tests/support/jsonld``, see ``support.rocrate_offline``), read back with the ``rocrate`` library,
and tested for determinism and for ids that untrusted names cannot break.

The bundle is a directory of real files (their sizes and SHA-256 measured here) around the
reference example and two replicates of it; one replicate is named ``../../<script>"`` and records
an environment variable and a container image, so the validator sees those too.
"""

from __future__ import annotations

import ast
import copy
import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from rocrate.rocrate import ROCrate
from support import rocrate_offline
from support.paths import EXAMPLE, ROOT

from manifest.document.reader import load_path
from manifest.document.writer import dumps_yaml
from manifest.interop.ro_crate import NO_LICENSE, PROFILE, RO_CRATE, CrateFile, CrateRun, bundle_crate, local_id, manifest_crate, path_id

HOSTILE = '../../<script>"'
COMMIT12 = "1b2e3f4a5c6d"
LOCAL_ID = re.compile(r"#[a-z]+-[A-Za-z0-9._-]+-[0-9a-f]{10}")


def graph(crate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["@id"]: e for e in crate["@graph"]}


def ids(value: Any) -> list[str]:
    """The ``@id``\\ s a property refers to (one reference or a list of them)."""
    if value is None:
        return []
    return [v["@id"] for v in (value if isinstance(value, list) else [value])]


def actions(crate: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in crate["@graph"] if e.get("@type") == "CreateAction"]


def write_crate(directory: Path, crate: dict[str, Any]) -> Path:
    (directory / "ro-crate-metadata.json").write_text(json.dumps(crate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory


# --------------------------------------------------------------------------- a bundle of real files


def _replicate(m: dict[str, Any], n: int, name: str, seed: int) -> dict[str, Any]:
    r = copy.deepcopy(m)
    r["id"] = f"urn:uuid:7f9c2ba4-e88f-4d1b-9c3a-2f1e0d5c6b{n:02x}"
    r["name"] = name
    r["params"]["random_state"] = seed
    return r


def _source_archive() -> bytes:
    """A real, reproducible .tar.gz of the example's script (fixed times, owners and order)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = (ROOT / "examples" / "iris" / "train.py").read_bytes()
        info = tarfile.TarInfo(f"iris-{COMMIT12}/examples/iris/train.py")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


@dataclass
class Bundle:
    root: Path
    files: list[CrateFile]
    runs: list[CrateRun]
    manifests: dict[str, dict[str, Any]]  # bundle path -> manifest
    crate: dict[str, Any]

    def build(self, **over: Any) -> dict[str, Any]:
        args = {"name": "Supplementary material: iris random forests", "description": "Three runs of a random forest on iris.", "date_published": "2026-12-02", "license": "CC-BY-4.0", "authors": self.manifests["manifests/rf-100-trees.yaml"]["authors"]}
        return bundle_crate(self.files, self.runs, **{**args, **over})


def make_bundle(root: Path) -> Bundle:
    m = load_path(EXAMPLE).data
    hostile = _replicate(m, 2, HOSTILE, 13)
    hostile["environment"]["variables"] = {"OMP_NUM_THREADS": "1"}
    hostile["environment"]["container"] = {"image": "ghcr.io/example/train:1.4", "digest": {"sha256": "ab" * 32}, "runtime": "docker"}
    manifests = {"manifests/rf-100-trees.yaml": m, "manifests/rf-100-trees-rs7.yaml": _replicate(m, 1, "rf-100-trees-rs7", 7), "manifests/hostile.yaml": hostile}
    contents: dict[str, bytes] = {path: dumps_yaml(doc).encode() for path, doc in manifests.items()}
    contents["manifests/rf-100-trees.yaml"] = EXAMPLE.read_bytes()
    contents.update({
        "data/iris.csv": (ROOT / "examples" / "iris" / "data" / "iris.csv").read_bytes(),
        f"code/{COMMIT12}.tar.gz": _source_archive(),
        "manifests/models/rf-100-trees/model/MLmodel": b"flavors:\n  sklearn: {}\n",
        "manifests/models/rf-100-trees/model/model.skops": b"not really a model\n",
        "attestations/rf-100-trees.intoto.json": b'{"_type": "https://in-toto.io/Statement/v1"}\n',
        "boms/rf-100-trees.model.cdx.json": b'{"bomFormat": "CycloneDX"}\n',
        "results.md": b"| run | accuracy |\n", "results.tex": b"\\begin{tabular}{ll}\\end{tabular}\n",
        "plots/cv_accuracy.png": b"\x89PNG\r\n\x1a\n", "plots/final values #2 (50%).png": b"\x89PNG\r\n\x1a\n",
        "README.md": b"# Bundle\n", "CITATION.cff": b"cff-version: 1.2.0\n", "index.html": b"<!doctype html>\n",
    })  # fmt: skip
    files = []
    for rel, data in sorted(contents.items()):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        files.append(CrateFile(rel, len(data), hashlib.sha256(data).hexdigest()))
    archive = f"code/{COMMIT12}.tar.gz"
    runs = [
        CrateRun("manifests/rf-100-trees.yaml", m, archive, {"iris": "data/iris.csv"}, {"model": "manifests/models/rf-100-trees/model/"}, "attestations/rf-100-trees.intoto.json"),
        CrateRun("manifests/rf-100-trees-rs7.yaml", manifests["manifests/rf-100-trees-rs7.yaml"], archive, {"iris": "data/iris.csv"}),
        CrateRun("manifests/hostile.yaml", hostile, archive, {"iris": "data/iris.csv"}),
    ]
    bundle = Bundle(root, files, runs, manifests, {})
    bundle.crate = bundle.build()
    write_crate(root, bundle.crate)
    return bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return make_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rocrate_offline.fill_cache(tmp_path_factory.mktemp("roc"))


@pytest.fixture(scope="module")
def bundle_verdict(bundle: Bundle, cache: Path) -> rocrate_offline.Verdict:
    return rocrate_offline.validate(bundle.root, cache)


# --------------------------------------------------------------------------- roc-validator


@pytest.mark.e2e
def test_the_bundle_crate_is_a_valid_process_run_crate(bundle_verdict: rocrate_offline.Verdict):
    """Valid at the REQUIRED level for Process Run Crate 0.5, checked with RO-Crate 1.1 (its base)."""
    assert bundle_verdict.passed, bundle_verdict.summary()
    assert bundle_verdict.issues() == []
    assert bundle_verdict.report["validation_settings"]["profile_identifier"] == "process-run-crate-0.5"
    assert bundle_verdict.report["validation_settings"]["offline"] is True
    assert set(bundle_verdict.report["statistics"]["profiles"]) == {"process-run-crate-0.5", "ro-crate-1.1"}
    assert bundle_verdict.report["statistics"]["total_checks"] > 30  # the profile's checks ran, not none


@pytest.mark.e2e
def test_only_the_known_recommendations_remain(bundle: Bundle, cache: Path):
    """At the RECOMMENDED level the validator still asks for what a bundle cannot truthfully give:
    an absolute ``@id`` for the code (a clone URL names no commit; the archive is a file of the
    crate, which the profile allows), a publisher, and web addresses of the authors' affiliations."""
    verdict = rocrate_offline.validate(bundle.root, cache, severity="recommended")
    found = {(i["severity"], i["check"]["name"]) for i in verdict.issues()}
    assert found == {
        ("RECOMMENDED", "SoftwareApplication id"),
        ("RECOMMENDED", "Root Data Entity: `publisher` property"),
        ("RECOMMENDED", "Organization: RECOMMENDED url property"),
    }, verdict.summary()


@pytest.mark.e2e
def test_a_crate_whose_action_has_no_instrument_is_rejected(bundle: Bundle, cache: Path, tmp_path: Path):
    """The validator run can fail: the same bundle, one ``instrument`` removed, is refused."""
    broken = copy.deepcopy(bundle.crate)
    del actions(broken)[0]["instrument"]
    shutil.copytree(bundle.root, tmp_path / "broken")
    verdict = rocrate_offline.validate(write_crate(tmp_path / "broken", broken), cache, work=tmp_path)
    assert not verdict.passed
    assert [i["check"]["name"] for i in verdict.issues()] == ["Action instrument"], verdict.summary()
    assert verdict.issues()[0]["severity"] == "REQUIRED"


@pytest.mark.e2e
def test_the_crate_of_the_reference_manifest_is_valid(cache: Path, tmp_path: Path):
    crate_dir = tmp_path / "one"
    crate_dir.mkdir()
    shutil.copyfile(EXAMPLE, crate_dir / "manifest.yaml")
    verdict = rocrate_offline.validate(write_crate(crate_dir, manifest_crate(load_path(EXAMPLE).data)), cache, work=tmp_path)
    assert verdict.passed, verdict.summary()
    assert verdict.issues() == []


def test_a_missing_validator_fails_the_test_and_says_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(rocrate_offline, "VALIDATOR", tmp_path / "no-such-validator")
    with pytest.raises(pytest.fail.Exception, match="run make tools"):
        rocrate_offline.require_validator()


def test_the_shipped_context_is_the_ro_crate_1_1_context():
    """The cache is filled with the real document (as the rocrate 0.13.0 wheel ships it), not a stand-in."""
    path = rocrate_offline.JSONLD / rocrate_offline.CONTEXTS["https://w3id.org/ro/crate/1.1/context"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["@id"] == "https://w3id.org/ro/crate/1.1/context" and doc["version"] == "1.1.0"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == "bb5dd0a79ebd5a3b074e2faf96f437503234f8a4b8e84c7149de91eae0d2222a"
    assert doc["@context"]["CreateAction"] == "http://schema.org/CreateAction"


# --------------------------------------------------------------------------- read back with rocrate


def test_rocrate_reads_the_runs_their_code_data_and_results(bundle: Bundle):
    crate = ROCrate(str(bundle.root))
    assert crate.root_dataset["conformsTo"].id == PROFILE
    assert crate.metadata["conformsTo"] == RO_CRATE  # rocrate gives an id without an entity as its text
    acts = {e["identifier"]: e for e in crate.get_entities() if e.type == "CreateAction"}
    assert sorted(a["name"] for a in acts.values()) == sorted([HOSTILE, "rf-100-trees", "rf-100-trees-rs7"])
    assert {e.id for e in crate.root_dataset["mentions"]} == {e.id for e in acts.values()}
    for doc in bundle.manifests.values():
        act = acts[doc["id"]]
        assert act.type == "CreateAction" and act["actionStatus"] == "http://schema.org/CompletedActionStatus"
        code = act["instrument"]
        assert code.id == f"code/{COMMIT12}.tar.gz" and set(code.type) == {"File", "SoftwareSourceCode"}
        assert code["version"] == doc["code"]["commit"] and code["codeRepository"] == doc["code"]["repository"]
        objects = {o.id: o for o in act["object"]}
        assert objects["data/iris.csv"]["alternateName"] == "data/iris.csv" and objects["data/iris.csv"]["sha256"] == doc["data"][0]["digest"]["sha256"]
        assert not any(o.get("name") in ("iris-train", "iris-test") for o in objects.values())  # split in memory from iris
        params = {o["name"]: o.get("value") for o in objects.values() if o.type == "PropertyValue"}
        assert params == {k: v for k, v in doc["params"].items() if v is not None} | {"max_depth": None}
        results = {r["name"]: r for r in act["result"]}
        assert results["accuracy"]["value"] == 1.0 and results["model"].type == "Dataset"
        assert [a.id for a in _list(act["agent"])] == ["https://orcid.org/0000-0002-1825-0097"]
        assert act["startTime"] == "2026-11-27T02:38:12.345+00:00" and act["endTime"] == "2026-11-27T02:38:19.870+00:00"
        assert any(s["about"].id == act.id for s in _list(act["subjectOf"]))
    copied = acts[bundle.manifests["manifests/rf-100-trees.yaml"]["id"]]
    model = next(r for r in copied["result"] if r.get("name") == "model")
    assert model.id == "manifests/models/rf-100-trees/model/" and model["identifier"] == "m-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert {p.id for p in _list(model["hasPart"])} == {"manifests/models/rf-100-trees/model/MLmodel", "manifests/models/rf-100-trees/model/model.skops"}
    other = acts[bundle.manifests["manifests/rf-100-trees-rs7.yaml"]["id"]]
    assert next(r for r in other["result"] if r.get("name") == "model")["url"] == "models:/m-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def test_every_bundle_file_is_a_part_with_its_measured_size_and_digest(bundle: Bundle):
    g = graph(bundle.crate)
    root = g["./"]
    assert set(ids(root["hasPart"])) == {path_id(f.path) for f in bundle.files} | {"manifests/models/rf-100-trees/model/"}
    for f in bundle.files:
        e = g[path_id(f.path)]
        assert "File" in ([e["@type"]] if isinstance(e["@type"], str) else e["@type"])
        assert (e["contentSize"], e["sha256"]) == (str(f.size), f.sha256)
        assert re.fullmatch(r"[\w.+-]+/[\w.+-]+", e["encodingFormat"])
    assert g["data/iris.csv"]["encodingFormat"] == "text/csv" and g["attestations/rf-100-trees.intoto.json"]["encodingFormat"] == "application/vnd.in-toto+json"
    odd = path_id("plots/final values #2 (50%).png")
    assert odd == "plots/final%20values%20%232%20%2850%25%29.png" and unquote(odd) == "plots/final values #2 (50%).png" and odd in g


def test_the_root_and_the_descriptor(bundle: Bundle):
    g = graph(bundle.crate)
    assert bundle.crate["@context"][0] == "https://w3id.org/ro/crate/1.1/context"
    assert g["ro-crate-metadata.json"] == {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "conformsTo": {"@id": RO_CRATE}, "about": {"@id": "./"}}
    root = g["./"]
    assert root["conformsTo"] == {"@id": "https://w3id.org/ro/wfrun/process/0.5"} and g[PROFILE]["@type"] == "CreativeWork"
    assert root["license"] == {"@id": "https://spdx.org/licenses/CC-BY-4.0"} and g["https://spdx.org/licenses/CC-BY-4.0"]["name"] == "CC-BY-4.0"
    assert (root["datePublished"], root["author"]) == ("2026-12-02", {"@id": "https://orcid.org/0000-0002-1825-0097"})
    assert g["https://orcid.org/0000-0002-1825-0097"]["@type"] == "Person"


def test_the_hostile_replicate_keeps_its_environment_and_container(bundle: Bundle):
    g = graph(bundle.crate)
    act = next(a for a in actions(bundle.crate) if a["name"] == HOSTILE)
    env = g[act["environment"]["@id"]]
    assert (env["@type"], env["name"], env["value"]) == ("PropertyValue", "OMP_NUM_THREADS", "1")
    image = g[act["containerImage"]["@id"]]
    assert image["@type"] == "ContainerImage" and (image["registry"], image["name"], image["tag"], image["sha256"]) == ("ghcr.io", "example/train", "1.4", "ab" * 32)
    assert image["additionalType"] == {"@id": "https://w3id.org/ro/terms/workflow-run#DockerImage"}
    assert "environment" not in next(a for a in actions(bundle.crate) if a["name"] == "rf-100-trees")


# --------------------------------------------------------------------------- determinism and untrusted text


def test_the_same_input_gives_the_same_crate_whatever_the_order(bundle: Bundle):
    again = bundle_crate(list(reversed(bundle.files)), list(reversed(bundle.runs)), name="Supplementary material: iris random forests", description="Three runs of a random forest on iris.", date_published="2026-12-02", license="CC-BY-4.0", authors=bundle.manifests["manifests/rf-100-trees.yaml"]["authors"])
    assert json.dumps(again, sort_keys=False) == json.dumps(bundle.crate, sort_keys=False)
    assert json.dumps(manifest_crate(load_path(EXAMPLE).data)) == json.dumps(manifest_crate(load_path(EXAMPLE).data))


def test_every_id_is_unique_and_untrusted_names_give_safe_ones(bundle: Bundle):
    all_ids = [e["@id"] for e in bundle.crate["@graph"]]
    assert len(all_ids) == len(set(all_ids))
    local = [i for i in all_ids if i.startswith("#")]
    assert local and all(LOCAL_ID.fullmatch(i) for i in local), [i for i in local if not LOCAL_ID.fullmatch(i)]
    hostile = next(a for a in actions(bundle.crate) if a["name"] == HOSTILE)
    assert re.fullmatch(r"#run-script-[0-9a-f]{10}", hostile["@id"])
    for i in all_ids:
        assert not re.search(r"[\s<>\"{}|\\^`]", i), i  # valid IRI references: nothing that needs escaping
    # names that slug alike, or not at all, still differ
    assert len({local_id("run", n, n) for n in ("a b", "a-b", "a/b", "a_b", "", "<>", "💥")}) == 7
    assert local_id("run", "x" * 500, "x" * 500).startswith("#run-" + "x" * 48 + "-")


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "", "a\x00b"])
def test_a_bundle_path_outside_the_bundle_is_refused(bad: str):
    with pytest.raises(ValueError, match="crate path"):
        bundle_crate([CrateFile(bad, 1, "0" * 64)], [], name="n", description="d", date_published="2026-12-02", license=None, authors=[])


def test_without_a_license_the_root_says_so_in_words():
    crate = bundle_crate([CrateFile("README.md", 1, "0" * 64)], [], name="n", description="d", date_published="2026-12-02", license=None, authors=[])
    root = graph(crate)["./"]
    assert root["license"] == NO_LICENSE and "author" not in root and "mentions" not in root


# --------------------------------------------------------------------------- one run's mapping


def _one(m: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    crate = manifest_crate(m)
    (act,) = actions(crate)
    return act, graph(crate)


@pytest.mark.parametrize(
    ("status", "error", "expected", "error_text"),
    [
        ("FINISHED", None, "CompletedActionStatus", None),
        ("FAILED", "CUDA out of memory", "FailedActionStatus", "CUDA out of memory"),
        ("FAILED", None, "FailedActionStatus", "The run failed; its manifest records no error message."),
        ("KILLED", "SIGTERM from the scheduler", "FailedActionStatus", "The run was killed before it completed: SIGTERM from the scheduler"),
        ("KILLED", None, "FailedActionStatus", "The run was killed before it completed."),
        ("RUNNING", None, "ActiveActionStatus", None),
    ],
)
def test_run_status_and_error(status: str, error: str | None, expected: str, error_text: str | None):
    m = load_path(EXAMPLE).data
    m["run"]["status"] = status
    if error:
        m["run"]["error"] = error
    if status == "RUNNING":
        del m["run"]["end_time"]
    act, _ = _one(m)
    assert act["actionStatus"] == f"http://schema.org/{expected}"
    assert act.get("error") == error_text
    assert ("endTime" in act) is (status != "RUNNING")


def test_a_run_without_authors_code_or_license_still_has_an_instrument_and_no_agent():
    m = load_path(EXAMPLE).data
    for key in ("authors", "code", "license"):
        del m[key]
    act, g = _one(m)
    assert "agent" not in act
    code = g[act["instrument"]["@id"]]
    assert code["@type"] == "SoftwareSourceCode" and "no repository or commit" in code["description"]
    assert g["./"]["license"] == NO_LICENSE


def test_without_a_bundle_copy_data_and_models_are_contextual_entities():
    m = load_path(EXAMPLE).data
    m["data"].append({"name": "extra", "uri": "s3://bucket/extra.parquet", "kind": "file", "media_type": "application/x-parquet", "digest": {"sha256": "cd" * 32}})
    m["data"].append({"name": "frame", "kind": "memory", "description": "built by the program"})
    act, g = _one(m)
    objects = {g[i]["name"]: g[i] for i in ids(act["object"])}
    assert (objects["iris"]["@type"], objects["iris"]["alternateName"], objects["iris"]["license"]) == ("File", "data/iris.csv", {"@id": "https://spdx.org/licenses/CC-BY-4.0"})
    assert (objects["extra"]["contentUrl"], objects["extra"]["sha256"], objects["extra"]["encodingFormat"]) == ("s3://bucket/extra.parquet", "cd" * 32, "application/x-parquet")
    assert objects["frame"]["@type"] == "CreativeWork"  # memory, but not split from another input
    assert "iris-train" not in objects and "iris-test" not in objects
    model = g[next(i for i in ids(act["result"]) if g[i]["name"] == "model")]
    assert model["@type"] == "Dataset" and model["url"] == "models:/m-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert all(not i.startswith(("data/", "models")) for i in ids(g["./"]["hasPart"]))  # nothing claimed that the crate does not hold


def test_shipped_files_of_a_manifest_are_parts_of_its_crate():
    m = load_path(EXAMPLE).data
    m["models"][0]["local_path"] = "models/model"
    m["code"]["dirty"], m["code"]["diff"] = True, {"path": "code.diff", "size": 10, "digest": {"sha256": "ef" * 32}, "media_type": "text/x-diff"}
    crate = manifest_crate(m, "runs/manifest.yaml")
    g = graph(crate)
    parts = set(ids(g["./"]["hasPart"]))
    assert {"runs/manifest.yaml", "runs/code.diff", "runs/models/model/", "runs/models/model/MLmodel", "runs/models/model/model.skops"} <= parts
    (act,) = actions(crate)
    assert "runs/models/model/" in ids(act["result"]) and "runs/code.diff" in ids(act["object"])
    assert (g["runs/code.diff"]["contentSize"], g["runs/code.diff"]["sha256"]) == ("10", "ef" * 32)


def test_the_module_imports_only_the_layers_below_it():
    """No rocrate, roc-validator or other third-party import in the package: those are test tools."""
    tree = ast.parse((ROOT / "manifest" / "interop" / "ro_crate.py").read_text(encoding="utf-8"))
    imported = {(n.level, n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {(0, a.name) for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {level for level, _ in imported} <= {0, 1, 2}  # nothing above manifest.interop
    assert {mod for level, mod in imported if level == 1} <= {"patterns"}  # of its siblings, only the shared forms
    assert {mod.split(".")[0] for level, mod in imported if level == 2} <= {"core", "document", "spec"}
    assert {mod for level, mod in imported if level == 0} <= {"__future__", "hashlib", "json", "posixpath", "re", "shlex", "dataclasses", "typing", "urllib.parse"}


def test_a_malformed_manifest_still_gives_a_crate_with_an_action_and_its_instrument():
    """Fields of the wrong type are passed over, not trusted (a bundle holds what it was given)."""
    m = {
        "name": ["not text"], "run": "x", "data": "x", "models": {"a": 1}, "params": [1], "metrics": {"a": "b", 1: {"value": float("inf")}},
        "code": 3, "authors": "me", "artifacts": [1, {"path": "p", "kind": "directory"}], "license": "MIT OR Apache-2.0",
        "environment": {"variables": {1: 2}, "container": {"image": "python:3.11@sha256:" + "a" * 64}},
    }  # fmt: skip
    act, g = _one(m)
    assert g[act["instrument"]["@id"]]["@type"] == "SoftwareSourceCode" and "agent" not in act and "object" not in act
    assert [g[i].get("value") for i in ids(act["result"]) if g[i]["@type"] == "PropertyValue"] == ["Infinity"]
    image = g[act["containerImage"]["@id"]]
    assert (image["registry"], image["name"], image["tag"], image["sha256"]) == ("docker.io", "python", "3.11", "a" * 64)
    assert g[g["./"]["license"]["@id"]]["name"] == "MIT OR Apache-2.0"
    json.dumps(manifest_crate(m), allow_nan=False)  # still JSON: no NaN or Infinity numbers

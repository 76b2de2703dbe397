"""The export index (spec/export-1.0.md): its schema, checked by the reference ``jsonschema`` and by
the tool alike, the rules beyond it, and the check of the files it lists."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from manifest.core.problems import IntegrityError, InvalidManifest
from manifest.spec.export_index import consistency_problems, read_index, schema_problems

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "export-index-1.0.schema.json").read_text())

VALID: dict[str, Any] = {
    "$schema": "https://experiment-manifest.org/schemas/export-index-1.0.schema.json",
    "index_version": "1.0",
    "created_at": "2026-12-02T10:00:00.000Z",
    "tool": {"name": "experiment-manifest", "version": "0.1.0"},
    "source": {"system": "mlflow", "version": "3.17.2", "tracking_uri": "http://127.0.0.1:5000"},
    "selection": {"model": "iris"},
    "experiments": [{"id": "1", "name": "iris", "lifecycle_stage": "active"}],
    "runs": [
        {"file": "a-11111111.yaml", "sha256": "0" * 64, "run_id": "r1", "experiment_id": "1"},
        {"file": "sub/b-22222222.yaml", "sha256": "1" * 64, "run_id": "r2"},
    ],
    "registered_models": [{
        "name": "iris", "tags": {"team": "vision"}, "aliases": {"champion": "3"}, "complete": True,
        "versions": [
            {"version": "1", "run_id": "r1", "model_id": "m-1", "file": "a-11111111.yaml"},
            {"version": "2", "run_id": "r9", "missing": "its run is deleted or was not found"},
            {"version": "3", "run_id": "r2", "model_id": "m-2", "file": "sub/b-22222222.yaml", "tags": {"ok": "yes"}},
        ],
    }],
}


def _with(change: str, value: Any) -> dict[str, Any]:
    return _with_doc(VALID, change, value)


def _with_doc(base: dict[str, Any], change: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    *parents, last = change.split("/")
    node: Any = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is _DROP:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


_DROP = object()

INVALID = {
    "no runs": ("runs", _DROP),
    "unknown version": ("index_version", "2.0"),
    "unknown member": ("surprise", 1),
    "absolute file": ("runs/0/file", "/etc/passwd"),
    "parent segment": ("runs/0/file", "../a.yaml"),
    "dot segment": ("runs/0/file", "a/./b.yaml"),
    "empty segment": ("runs/0/file", "a//b.yaml"),
    "backslash": ("runs/0/file", "a\\b.yaml"),
    "control character": ("runs/0/file", "a\nb.yaml"),
    "short sha256": ("runs/0/sha256", "abc"),
    "upper-case sha256": ("runs/0/sha256", "A" * 64),
    "version with a leading zero": ("registered_models/0/versions/0/version", "01"),
    "version not a number": ("registered_models/0/versions/0/version", "one"),
    "alias onto a non-number": ("registered_models/0/aliases/champion", "latest"),
    "complete missing": ("registered_models/0/complete", _DROP),
    "time without milliseconds": ("created_at", "2026-12-02T10:00:00Z"),
    "time with a trailing newline": ("created_at", "2026-12-02T10:00:00.000Z\n"),
    "version with a trailing newline": ("registered_models/0/versions/0/version", "1\n"),
    "sha256 with a trailing newline": ("runs/0/sha256", "0" * 64 + "\n"),
    "file with a trailing newline": ("runs/0/file", "a.yaml\n"),
}

VALID_TOO = {
    "no optional lists": [("experiments", _DROP), ("registered_models", _DROP), ("selection", _DROP)],
    "a version without run or model": [("registered_models/0/versions/1", {"version": "2", "missing": "it has no run"})],
    "a dot file name": [("runs/0/file", ".hidden.yaml"), ("registered_models/0/versions/0/file", ".hidden.yaml")],
    "an extension": [("extensions", {"org.example.tool": {"queue": "gpu"}})],
}


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)


def test_a_valid_index_is_valid_for_both():
    assert list(Draft202012Validator(SCHEMA).iter_errors(VALID)) == []
    assert schema_problems(VALID) == [] and consistency_problems(VALID) == []


@pytest.mark.parametrize("case", sorted(VALID_TOO))
def test_the_reference_validator_and_the_tool_accept_the_same_documents(case):
    doc = VALID
    for change in VALID_TOO[case]:
        doc = _with_doc(doc, *change)
    assert list(Draft202012Validator(SCHEMA).iter_errors(doc)) == [], case
    assert schema_problems(doc) == [] and consistency_problems(doc) == [], case


@pytest.mark.parametrize("case", sorted(INVALID))
def test_the_reference_validator_and_the_tool_refuse_the_same_documents(case):
    doc = _with(*INVALID[case])
    assert list(Draft202012Validator(SCHEMA).iter_errors(doc)) != [], case
    assert schema_problems(doc) != [], case


@pytest.mark.parametrize(("change", "messages"), [
    (("runs/1/file", "a-11111111.yaml"), ["file 'a-11111111.yaml' is listed twice", "version 3 names 'sub/b-22222222.yaml', which runs[] does not list"]),
    (("runs/1/run_id", "r1"), ["run_id 'r1' is listed twice"]),
    (("registered_models/0/versions/2/version", "1"), ["versions must be listed once each, in ascending number", "alias 'champion' points at version 3, which versions[] does not list"]),
    (("registered_models/0/versions/0/file", "elsewhere.yaml"), ["version 1 names 'elsewhere.yaml', which runs[] does not list"]),
    (("registered_models/0/aliases/champion", "7"), ["alias 'champion' points at version 7, which versions[] does not list"]),
    (("registered_models/0/versions/1/file", "a-11111111.yaml"), ["version 2 has both a manifest and a reason it is missing"]),
])
def test_rules_beyond_the_schema(change, messages):
    doc = _with(*change)
    assert schema_problems(doc) == []
    assert [p.message for p in consistency_problems(doc)] == messages


def _directory(tmp_path: Path) -> Path:
    doc = copy.deepcopy(VALID)
    for r in doc["runs"]:
        f = tmp_path / r["file"]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"spec_version: '1.0'\n# " + r["run_id"].encode() + b"\n")
        r["sha256"] = hashlib.sha256(f.read_bytes()).hexdigest()
    (tmp_path / "export-index.json").write_text(json.dumps(doc, indent=2))
    return tmp_path / "export-index.json"


def test_read_index_checks_every_listed_file(tmp_path):
    path = _directory(tmp_path)
    assert read_index(path).data["runs"][0]["file"] == "a-11111111.yaml"
    (tmp_path / "sub" / "b-22222222.yaml").write_text("changed\n")
    with pytest.raises(IntegrityError) as exc:
        read_index(path)
    [p] = exc.value.problems
    assert p.code == "index-mismatch" and p.pointer == "/runs/1/sha256" and p.line is not None
    assert "sub/b-22222222.yaml differs from its SHA-256 in the index" in p.message
    (tmp_path / "a-11111111.yaml").unlink()
    with pytest.raises(IntegrityError) as exc:
        read_index(path)
    assert "a-11111111.yaml is listed but missing" in exc.value.problems[0].message


def test_an_invalid_index_names_its_line_and_column(tmp_path):
    path = _directory(tmp_path)
    doc = json.loads(path.read_text())
    doc["runs"][0]["file"] = "../outside.yaml"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(InvalidManifest) as exc:
        read_index(path)
    [p] = exc.value.problems
    assert p.pointer == "/runs/0/file" and p.file == str(path)
    line = path.read_text().splitlines()[p.line - 1]  # type: ignore[operator]
    assert '"../outside.yaml"' in line


# --------------------------------------------------------------------------- index 1.1 (spec/export-1.1.md)

SCHEMA_11 = json.loads((Path(__file__).parents[2] / "schemas" / "export-index-1.1.schema.json").read_text())

WHOLE_STORE: dict[str, Any] = {
    **copy.deepcopy(VALID),
    "$schema": "https://experiment-manifest.org/schemas/export-index-1.1.schema.json",
    "index_version": "1.1",
    "selection": {"all": True},
    "experiments": [
        {"id": "0", "name": "Default", "lifecycle_stage": "active", "creation_time": "2026-12-01T10:00:00.000Z", "artifact_location": "mlflow-artifacts:/0"},
        {"id": "1", "name": "iris", "lifecycle_stage": "deleted", "description": "the iris runs", "tags": {"mlflow.note.content": "the iris runs"}},
    ],
    "not_exported": [
        {"kind": "run", "id": "r3", "name": "still-going", "experiment_id": "1", "reason": "the run is still RUNNING"},
        {"kind": "logged_model", "id": "m-7", "reason": "it belongs to no run"},
    ],
}


def test_a_whole_store_index_is_valid_1_1_for_both_validators():
    assert schema_problems(WHOLE_STORE) == [] and consistency_problems(WHOLE_STORE) == []
    assert list(Draft202012Validator(SCHEMA_11).iter_errors(WHOLE_STORE)) == []


@pytest.mark.parametrize("change, value, why", [
    ("not_exported/0/kind", "artifact", "a kind the index does not know"),
    ("not_exported/1/reason", "", "a reason must say something"),
    ("selection/all", "yes", "all is a boolean"),
    ("experiments/0/creation_time", "2026-12-01", "a timestamp, not a date"),
])
def test_the_1_1_members_are_checked_by_both_validators(change, value, why):
    doc = _with_doc(WHOLE_STORE, change, value)
    assert schema_problems(doc), why
    assert list(Draft202012Validator(SCHEMA_11).iter_errors(doc)), why


def test_the_released_1_0_schema_still_refuses_the_1_1_members():
    doc = {**copy.deepcopy(VALID), "not_exported": [{"kind": "run", "id": "r3", "reason": "deleted"}]}
    assert list(Draft202012Validator(SCHEMA).iter_errors(doc))
    assert [p.code for p in schema_problems(doc)] == ["schema-additional-properties"]


def test_a_1_0_index_migrates_to_1_1_by_its_version_alone():
    from manifest.spec.export_index import upgrade_index

    upgraded = upgrade_index(copy.deepcopy(VALID))
    assert upgraded["index_version"] == "1.1" and upgraded["$schema"] == SCHEMA_11["$id"]
    assert {k: v for k, v in upgraded.items() if k not in ("index_version", "$schema")} == {k: v for k, v in VALID.items() if k not in ("index_version", "$schema")}
    assert list(Draft202012Validator(SCHEMA_11).iter_errors(upgraded)) == [] and schema_problems(upgraded) == []
    assert upgrade_index(WHOLE_STORE) is WHOLE_STORE

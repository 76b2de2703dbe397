"""Fast unit tests of manifest.checks.diff: rows, what counts as a difference, both renderings."""

from __future__ import annotations

import copy
import json
from typing import Any

from support.paths import minimal

from manifest.checks.diff import Row, compare, differences, render_json, render_text


def pair() -> tuple[dict[str, Any], dict[str, Any]]:
    a = minimal()
    b = copy.deepcopy(a)
    b["id"] = "urn:uuid:11111111-1111-4111-8111-111111111111"
    a["provenance"]["source"] = {"run_id": "r1", "experiment_name": "e"}
    b["provenance"]["source"] = {"run_id": "r2", "experiment_name": "e"}
    return a, b


def counted(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    return [(r.section, r.field, r.a, r.b) for r in differences(compare(a, b))]


def test_identity_rows_are_shown_but_do_not_count():
    a, b = pair()
    rows = compare(a, b)
    assert [(r.section, r.field, r.a, r.b, r.counts) for r in rows[:3]] == [
        ("identity", "id", "urn:uuid:00000000-0000-4000-8000-000000000000", "urn:uuid:11111111-1111-4111-8111-111111111111", False),
        ("identity", "source run", "r1", "r2", False),
        ("identity", "experiment", "e", "e", False),
    ]
    assert differences(rows) == []


def test_nan_equals_nan_and_numbers_compare_as_reals():
    a, b = pair()
    a["metrics"] = {"loss": {"value": "NaN"}, "acc": {"value": 1}, "top": {"value": "Infinity"}}
    b["metrics"] = {"loss": {"value": "NaN"}, "acc": {"value": 1.0}, "top": {"value": "-Infinity"}}
    assert counted(a, b) == [("metrics", "top", "Infinity", "-Infinity")]
    assert Row("m", "x", "NaN", "NaN").same and not Row("m", "x", "NaN", 0).same
    assert Row("m", "x", "abc", "abc").same and not Row("m", "x", "abc", "abd").same


def test_a_boolean_param_differs_from_the_integer():
    a, b = pair()
    a["params"] = {"flag": True, "off": False}
    b["params"] = {"flag": 1, "off": 0}
    assert counted(a, b) == [("params", "flag", True, 1), ("params", "off", False, 0)]


def test_params_on_one_side_only():
    a, b = pair()
    a["params"] = {"lr": 0.1, "only_a": "x"}
    b["params"] = {"lr": 0.1, "only_b": 3}
    assert counted(a, b) == [("params", "only_a", "x", "—"), ("params", "only_b", "—", 3)]


def test_history_point_counts():
    a, b = pair()
    a["metrics"] = {"loss": {"value": 0.5, "history": {"step": [0, 1, 2], "value": [1, 0.7, 0.5]}}, "acc": {"value": 0.9}}
    b["metrics"] = {"loss": {"value": 0.5, "history_file": {"path": "h.json", "points": 5}}, "acc": {"value": 0.9, "history": {"step": [0], "value": [0.9]}}}
    rows = [(r.section, r.field, r.a, r.b) for r in compare(a, b) if r.section == "metrics"]
    assert rows == [("metrics", "acc", 0.9, 0.9), ("metrics", "loss", 0.5, 0.5), ("metrics", "loss (history points)", 3, 5)]
    assert counted(a, b) == [("metrics", "loss (history points)", 3, 5)]


def test_packages_on_one_side_and_different_versions():
    a, b = pair()
    a["environment"] = {"python": {"version": "3.11.4"}, "packages": {"numpy": "2.1.3", "scipy": "1.14.1", "a1": "1", "a2": "1", "a3": "1", "a4": "1"}}
    b["environment"] = {"python": {"version": "3.11.4"}, "packages": {"numpy": "2.0.0", "scipy": "1.14.1", "torch": "2.5.0"}}
    rows = [(r.field, r.a, r.b, r.counts) for r in compare(a, b) if r.section == "environment"]
    assert rows == [
        ("python", "3.11.4", "3.11.4", True),
        ("numpy", "2.1.3", "2.0.0", True),
        ("packages on one side only", "4: a1, a2, a3, a4", "1: torch", True),
        ("packages in common, same version", 1, 1, False),
    ]
    a["environment"]["packages"]["a5"] = "1"
    assert [r.a for r in compare(a, b) if r.field == "packages on one side only"] == ["5: a1, a2, a3, a4, …"]


def test_model_registry_rows_do_not_count():
    a, b = pair()
    files = [{"path": "MLmodel", "digest": {"sha256": "a" * 64}}, {"path": "model.pkl", "digest": {"sha256": "b" * 64}}]
    a["models"] = [{"name": "clf", "id": "m-1", "files": files, "registered": [{"name": "iris", "version": "3", "aliases": ["prod"]}]}]
    b["models"] = [{"name": "clf", "id": "m-2", "files": copy.deepcopy(files)}]
    rows = [(r.field, r.a, r.b, r.counts) for r in compare(a, b) if r.section == "models"]
    assert rows == [
        ("clf id", "m-1", "m-2", False),
        ("clf files (MLmodel aside)", 1, 1, True),
        ("clf registry", "iris v3 @prod", "—", False),
    ]
    assert counted(a, b) == []
    b["models"][0]["files"][1]["digest"] = {"sha256": "c" * 64}
    # the file map is JSON text with the ellipsis escaped (json.dumps with ensure_ascii)
    assert counted(a, b) == [("models", "clf files (MLmodel aside)", '{"model.pkl": "sha256:bbbbbbbbbbbb\\u2026"}', '{"model.pkl": "sha256:cccccccccccc\\u2026"}')]


def test_data_digests():
    a, b = pair()
    a["data"] = [{"name": "train", "digest": {"sha256": "0123456789abcdef" * 4}}, {"name": "mem", "kind": "memory"}]
    b["data"] = [{"name": "train", "digest": {"sha256": "0123456789abcdef" * 4}}]
    assert counted(a, b) == [("data", "mem", "(no digest)", "—")]


def test_render_text():
    a, b = pair()
    a["params"] = {"lr": 0.1}
    b["params"] = {"lr": 0.2}
    text = render_text(compare(a, b), ("a.yaml", "b.yaml"), only_differences=True)
    assert text.splitlines() == [
        f"{'':12} {'':34} {'a.yaml':<36} {'b.yaml':<36}",
        f"{'params':<12} ≠ {'lr':<32} {'0.1':<36} {'0.2':<36}",
        "1 difference (≠); identity and provenance (~) do not count",
    ]
    full = render_text(compare(a, b), ("a.yaml", "b.yaml")).splitlines()
    assert full[1] == f"{'identity':<12} ~ {'id':<32} {'urn:uuid:00000000-0000-4000-8000-00…':<36} {'urn:uuid:11111111-1111-4111-8111-11…':<36}"
    assert full[3] == f"{'':<12}   {'experiment':<32} {'e':<36} {'e':<36}"
    assert full[-1] == "1 difference (≠); identity and provenance (~) do not count"
    assert render_text(compare(a, a), ("a", "a")).splitlines()[-1] == "0 differences (≠); identity and provenance (~) do not count"


def test_render_json():
    a, b = pair()
    a["params"] = {"lr": 0.1}
    b["params"] = {"lr": 0.2}
    doc = json.loads(render_json(compare(a, b)))
    assert doc["same"] is False
    assert doc["rows"][0] == {"section": "identity", "field": "id", "a": "urn:uuid:00000000-0000-4000-8000-000000000000", "b": "urn:uuid:11111111-1111-4111-8111-111111111111", "same": False, "counts": False}
    assert {"section": "params", "field": "lr", "a": 0.1, "b": 0.2, "same": False, "counts": True} in doc["rows"]
    assert json.loads(render_json(compare(a, a)))["same"] is True

"""Fast unit tests of manifest.checks.diff: rows, what counts as a difference, both renderings."""

from __future__ import annotations

import copy
import json
from typing import Any

from support.paths import EXAMPLE, minimal

from manifest.checks.diff import Row, compare, differences, render_json, render_text
from manifest.document.reader import load_path


def pair() -> tuple[dict[str, Any], dict[str, Any]]:
    a = minimal()
    b = copy.deepcopy(a)
    b["id"] = "urn:uuid:11111111-1111-4111-8111-111111111111"
    a["provenance"]["source"] = {"run_id": "r1", "experiment_name": "e"}
    b["provenance"]["source"] = {"run_id": "r2", "experiment_name": "e"}
    return a, b


def counted(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    return [(r.section, r.field, r.a, r.b) for r in differences(compare(a, b))]


def test_identity_rows_are_volatile_and_count_only_with_all_fields():
    a, b = pair()
    rows = compare(a, b)
    assert [(r.section, r.field, r.a, r.b, r.volatile) for r in rows[:4]] == [
        ("identity", "id", "urn:uuid:00000000-0000-4000-8000-000000000000", "urn:uuid:11111111-1111-4111-8111-111111111111", True),
        ("identity", "created", "2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678Z", True),
        ("identity", "source run", "r1", "r2", True),
        ("identity", "experiment", "e", "e", True),
    ]
    assert differences(rows) == []
    assert [(r.field, r.a, r.b) for r in differences(rows, all_fields=True)] == [
        ("id", "urn:uuid:00000000-0000-4000-8000-000000000000", "urn:uuid:11111111-1111-4111-8111-111111111111"),
        ("source run", "r1", "r2"),
    ]


def test_run_times_and_name_are_volatile_status_and_user_are_not():
    a, b = pair()
    b["name"] = "reproduce minimal"
    b["run"] = {"status": "FAILED", "start_time": "2026-05-06T07:08:09.000Z", "end_time": "2026-05-06T07:09:09.000Z", "user": "someone"}
    b["run"]["parent"] = {"run_id": "p1"}
    assert [(r.field, r.volatile) for r in compare(a, b) if r.section == "run"] == [
        ("name", True),
        ("status", False),
        ("start_time", True),
        ("end_time", True),
        ("user", False),
        ("parent run", True),
    ]
    assert counted(a, b) == [("run", "status", "FINISHED", "FAILED"), ("run", "user", None, "someone")]


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
    rows = [(r.field, r.a, r.b, r.volatile) for r in compare(a, b) if r.section == "environment"]
    assert rows == [
        ("python", "3.11.4", "3.11.4", False),
        ("numpy", "2.1.3", "2.0.0", False),
        ("packages on one side only", "4: a1, a2, a3, a4", "1: torch", False),
        ("packages in common, same version", 1, 1, False),
    ]
    a["environment"]["packages"]["a5"] = "1"
    assert [r.a for r in compare(a, b) if r.field == "packages on one side only"] == ["5: a1, a2, a3, a4, …"]


def test_model_ids_times_and_registry_rows_are_volatile():
    a, b = pair()
    files = [{"path": "MLmodel", "digest": {"sha256": "a" * 64}}, {"path": "model.pkl", "digest": {"sha256": "b" * 64}}]
    a["models"] = [{"name": "clf", "id": "m-1", "uri": "models:/m-1", "files": files, "registered": [{"name": "iris", "version": "3", "aliases": ["prod"]}]}]
    b["models"] = [{"name": "clf", "id": "m-2", "uri": "models:/m-2", "created_at": "2026-05-06T07:08:09.000Z", "files": copy.deepcopy(files)}]
    rows = [(r.field, r.a, r.b, r.volatile) for r in compare(a, b) if r.section == "models"]
    assert rows == [
        ("clf id", "m-1", "m-2", True),
        ("clf uri", "models:/m-1", "models:/m-2", True),
        ("clf created", None, "2026-05-06T07:08:09.000Z", True),
        ("clf files (MLmodel aside)", 1, 1, False),
        ("clf registry", "iris v3 @prod", "—", True),
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


def test_render_text_leaves_out_volatile_rows_unless_all_fields():
    a, b = pair()
    a["params"] = {"lr": 0.1}
    b["params"] = {"lr": 0.2}
    footer = "1 difference (≠); 7 fields that change from run to run (ids, times) not shown, 2 of them differ; --all-fields shows and counts them"
    assert render_text(compare(a, b), ("a.yaml", "b.yaml"), only_differences=True).splitlines() == [
        "            a.yaml b.yaml",
        "params ≠ lr 0.1    0.2",
        footer,
    ]
    assert render_text(compare(a, b), ("a.yaml", "b.yaml")).splitlines() == [
        "                     a.yaml   b.yaml",
        "run           status FINISHED FINISHED",
        "              user   null     null",
        "params      ≠ lr     0.1      0.2",
        "environment   python null     null",
        footer,
    ]
    full = render_text(compare(a, b), ("a.yaml", "b.yaml"), all_fields=True).splitlines()
    assert full[:5] == [
        "                         a.yaml                                        b.yaml",
        "identity    ≠ id         urn:uuid:00000000-0000-4000-8000-000000000000 urn:uuid:11111111-1111-4111-8111-111111111111",
        "              created    2026-01-02T03:04:05.678Z                      2026-01-02T03:04:05.678Z",
        "            ≠ source run r1                                            r2",
        "              experiment e                                             e",
    ]
    assert full[-1] == "3 differences (≠), fields that change from run to run (ids, times) included"
    assert render_text(compare(a, a), ("a", "a")).splitlines()[-1] == "0 differences (≠); 7 fields that change from run to run (ids, times) not shown, 0 of them differ; --all-fields shows and counts them"


def test_render_text_fits_the_width_and_cuts_values_never_field_names():
    a, b = pair()
    a["params"] = {"learning_rate": 0.1, "optimizer": "adam"}
    b["params"] = {"learning_rate": 0.2, "optimizer": "a very long optimizer description " * 3}
    lines = render_text(compare(a, b), ("runs/first.yaml", "runs/second-of-two.yaml"), width=60, only_differences=True).splitlines()
    assert lines == [
        "                       runs/first.yaml runs/secon…f-two.yaml",
        "params ≠ learning_rate 0.1             0.2",
        "       ≠ optimizer     adam            a very long optimize…",
        "2 differences (≠); 7 fields that change from run to run",
        "(ids, times) not shown, 2 of them differ; --all-fields shows",
        "and counts them",
    ]


def test_without_a_width_nothing_is_cut():
    a, b = pair()
    b["params"] = {"optimizer": "x" * 150}
    lines = render_text(compare(a, b), ("a", "b"), only_differences=True).splitlines()
    assert lines[1] == "params ≠ optimizer — " + "x" * 150


def test_control_characters_stay_escaped_when_cut():
    a, b = pair()
    b["params"] = {"p": "\x1b[2J" + "y" * 100}
    line = render_text(compare(a, b), ("a", "b"), width=60, only_differences=True).splitlines()[1]
    assert line == "params ≠ p — \\u001b[2J" + "y" * 37 + "…"  # 60 characters: 13, the escape's 9, 37, the ellipsis


def test_render_json_flags_volatile_rows_and_counts_them_only_with_all_fields():
    a, b = pair()
    a["params"] = {"lr": 0.1}
    b["params"] = {"lr": 0.2}
    doc = json.loads(render_json(compare(a, b)))
    assert doc["same"] is False and doc["all_fields"] is False
    assert doc["rows"][0] == {"section": "identity", "field": "id", "a": "urn:uuid:00000000-0000-4000-8000-000000000000", "b": "urn:uuid:11111111-1111-4111-8111-111111111111", "same": False, "counts": False, "volatile": True}
    assert {"section": "params", "field": "lr", "a": 0.1, "b": 0.2, "same": False, "counts": True, "volatile": False} in doc["rows"]
    a["params"] = b["params"]
    assert json.loads(render_json(compare(a, b)))["same"] is True
    doc = json.loads(render_json(compare(a, b), all_fields=True))
    assert doc["same"] is False and doc["all_fields"] is True
    assert doc["rows"][0]["counts"] is True


def reproduction() -> tuple[dict[str, Any], dict[str, Any]]:
    """The reference example and what its reproduction's export differs in, whatever the run did."""
    a = load_path(EXAMPLE).data
    b = copy.deepcopy(a)
    b["id"] = "urn:uuid:22222222-2222-4222-8222-222222222222"
    b["name"] = "reproduce rf-100-trees"
    b["provenance"]["created_at"] = "2026-12-01T10:00:00.000Z"
    b["provenance"]["derived_from"] = {"id": a["id"], "relation": "reproduced", "digest": {"sha256": "d" * 64}}
    b["provenance"]["source"]["run_id"] = "99999999999999999999999999999999"
    b["run"]["start_time"] = "2026-12-01T09:58:00.000Z"
    b["run"]["end_time"] = "2026-12-01T09:59:00.000Z"
    b["metrics"]["cv_accuracy"]["timestamp"] = 1796000000400
    b["metrics"]["cv_accuracy"]["history"]["timestamp"] = [1796000000000, 1796000000100, 1796000000200, 1796000000300, 1796000000400]
    b["models"][0]["id"] = "m-ffffffffffffffffffffffffffffffff"
    b["models"][0]["uri"] = "models:/m-ffffffffffffffffffffffffffffffff"
    del b["models"][0]["registered"]
    return a, b


def test_a_reproduction_differs_only_in_volatile_fields():
    a, b = reproduction()
    rows = compare(a, b)
    assert differences(rows) == []
    assert [(r.section, r.field) for r in differences(rows, all_fields=True)] == [
        ("identity", "id"),
        ("identity", "created"),
        ("identity", "derived from"),
        ("identity", "source run"),
        ("run", "name"),
        ("run", "start_time"),
        ("run", "end_time"),
        ("models", "model id"),
        ("models", "model uri"),
        ("models", "model registry"),
    ]
    b["params"]["n_estimators"] = 200
    assert counted(a, b) == [("params", "n_estimators", 100, 200)]
    assert [r.field for r in differences(compare(a, b), all_fields=True) if not r.volatile] == ["n_estimators"]


#: The field column of the example's table, top to bottom, up to the environment.
FIELDS = "status user criterion max_depth n_estimators random_state test_size accuracy cv_accuracy cv_accuracy_mean iris iris-test iris-train repository commit branch dirty entry_point python".split()


def test_every_line_fits_the_width_with_field_names_whole():
    a, b = reproduction()
    for width in (60, 80, 200):
        lines = render_text(compare(a, b), ("examples/iris/manifest.yaml", "/tmp/reproduced/manifest.yaml"), width=width).splitlines()
        assert max(len(line) for line in lines) <= width, width
        fields = [line[14:].split(" ")[0] for line in lines[1:-3]]
        assert fields[:19] == FIELDS, width
    wide = render_text(compare(a, b), ("a", "b"), width=80).splitlines()
    assert "packages in common, same version" in wide[20] and "model files (MLmodel aside)" in wide[21]
    narrow = render_text(compare(a, b), ("a", "b"), width=60).splitlines()
    assert narrow[20] == "              packages in common, sam… 7          7"
    assert narrow[14] == "code          repository               https://g… https://g…"

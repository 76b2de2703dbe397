"""History sidecar files are checked against the manifest that references them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from manifest.checks.batch import validate_file
from manifest.core.digests import file_digest
from manifest.document.writer import dumps_history, dumps_yaml

COLS = {"step": [0, 1, 2, 2], "timestamp": [10, 20, 30, 31], "value": [0.5, "NaN", 0.25, 0.125]}


def make(tmp_path: Path, example: dict[str, Any], cols: dict[str, Any] = COLS, **override: Any) -> Path:
    side = tmp_path / "history" / "loss.json"
    side.parent.mkdir(exist_ok=True)
    side.write_bytes(dumps_history(cols))
    size, digest = file_digest(side)
    ref = {"path": "history/loss.json", "size": size, "digest": digest, "points": len(cols["step"])}
    ref.update(override)
    example["metrics"]["loss"] = {"value": cols["value"][-1], "step": cols["step"][-1], "history_file": ref}
    m = tmp_path / "run.yaml"
    m.write_text(dumps_yaml(example))
    return m


def codes(path: Path) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in validate_file(path).problems:
        out.setdefault(p.code, []).append(p)
    return out


def test_good_sidecar(tmp_path, example):
    m = make(tmp_path, example)
    assert validate_file(m).problems == []


def test_size_digest_points_mismatch(tmp_path, example):
    m = make(tmp_path, example, size=1, points=5)
    c = codes(m)
    assert c["sidecar-size-mismatch"][0].pointer == "/metrics/loss/history_file/size"
    assert c["sidecar-points-mismatch"][0].pointer == "/metrics/loss/history_file/points"
    m = make(tmp_path, example, digest={"sha256": "0" * 64})
    (p,) = codes(m)["sidecar-digest-mismatch"]
    assert p.pointer == "/metrics/loss/history_file/digest/sha256" and p.line is not None


def test_missing_sidecar_is_a_warning(tmp_path, example):
    m = make(tmp_path, example)
    (tmp_path / "history" / "loss.json").unlink()
    report = validate_file(m)
    assert report.valid
    assert [p.code for p in report.warnings] == ["sidecar-not-present"]


def test_sidecar_contents_are_checked_with_positions_in_the_sidecar(tmp_path, example):
    bad = {"step": [0, 1], "timestamp": [10, -20], "value": [0.5, 0.25]}
    side = tmp_path / "history" / "loss.json"
    m = make(tmp_path, example, cols=bad)
    problems = validate_file(m).problems
    (p,) = [p for p in problems if p.file == str(side)]
    assert p.pointer == "/timestamp/1" and p.code == "schema-minimum"
    assert (p.line, p.column) == (1, 31)  # {"step":[0,1],"timestamp":[10,-20] -> column of "-20"


def test_decreasing_steps_and_final_value(tmp_path, example):
    m = make(tmp_path, example, cols={"step": [0, 2, 1], "timestamp": [1, 2, 3], "value": [1.0, 2.0, 3.0]})
    (p,) = codes(m)["history-steps-decreasing"]
    assert p.pointer == "/step/2"
    m = make(tmp_path, example)
    data = json.loads(json.dumps(example))
    data["metrics"]["loss"]["value"] = 0.5
    m.write_text(dumps_yaml(data))
    (p,) = codes(m)["final-value-mismatch"]
    assert p.pointer == "/metrics/loss/value" and p.file == str(m)


def test_sidecar_escaping_through_a_symlink_is_refused(tmp_path, example):
    outside = tmp_path / "outside"
    outside.mkdir()
    inside = tmp_path / "bundle"
    inside.mkdir()
    m = make(inside, example)
    target = outside / "loss.json"
    (inside / "history" / "loss.json").rename(target)
    (inside / "history" / "loss.json").symlink_to(target)
    (p,) = codes(m)["unsafe-path"]
    assert "resolves outside" in p.message


def test_unsafe_relative_paths(tmp_path, example):
    for bad, why in (("../loss.json", "'..'"), ("/etc/passwd", "absolute"), ("a\\b.json", "backslash")):
        m = make(tmp_path, example, path=bad)
        (p,) = codes(m)["unsafe-path"]
        assert why in p.message and p.pointer == "/metrics/loss/history_file/path"

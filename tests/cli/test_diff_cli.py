"""``manifest diff`` as a command: the terminal's width, --all-fields, exit status 0, 1, 2."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.paths import EXAMPLE

from manifest.cli.app import main
from manifest.document.reader import load_path
from manifest.document.writer import dumps_yaml


def write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(dumps_yaml(data))
    return str(path)


def reproduced(data: dict[str, Any]) -> dict[str, Any]:
    """What re-running the example and exporting it again changes, whatever the run did."""
    b = copy.deepcopy(data)
    b["id"] = "urn:uuid:33333333-3333-4333-8333-333333333333"
    b["provenance"]["created_at"] = "2026-12-01T10:00:00.000Z"
    b["run"]["start_time"] = "2026-12-01T09:58:00.000Z"
    b["run"]["end_time"] = "2026-12-01T09:59:00.000Z"
    return b


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str, dict[str, Any]]:
    data = load_path(EXAMPLE).data
    return write(tmp_path / "a.yaml", data), write(tmp_path / "b.yaml", reproduced(data)), data


def diff(*args: str, columns: str | None = "60") -> Any:
    return CliRunner().invoke(main, ["diff", *args], env={"COLUMNS": columns})


def test_ids_and_times_alone_are_equal_by_default_and_differ_with_all_fields(pair):
    a, b, _ = pair
    r = diff(a, b)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-3:] == [
        "0 differences (≠); 10 fields that change from run to run",
        "(ids, times) not shown, 4 of them differ; --all-fields shows",
        "and counts them",
    ]
    r = diff("--all-fields", "--only-differences", a, b)
    assert r.exit_code == 1, r.output
    assert r.output.splitlines()[1:] == [
        "identity ≠ id         urn:uuid:7f9c2ba4… urn:uuid:33333333-…",
        "         ≠ created    2026-11-27T02:40:… 2026-12-01T10:00:0…",
        "run      ≠ start_time 2026-11-27T02:38:… 2026-12-01T09:58:0…",
        "         ≠ end_time   2026-11-27T02:38:… 2026-12-01T09:59:0…",
        "4 differences (≠), fields that change from run to run (ids,",
        "times) included",
    ]


def test_a_changed_param_differs_with_or_without_all_fields(pair, tmp_path: Path):
    a, _, data = pair
    changed = reproduced(data)
    changed["params"]["n_estimators"] = 200
    b = write(tmp_path / "c.yaml", changed)
    r = diff("--only-differences", a, b)
    assert r.exit_code == 1, r.output
    assert r.output.splitlines()[1:3] == ["params ≠ n_estimators 100                200", "1 difference (≠); 10 fields that change from run to run"]
    r = diff("--only-differences", "--all-fields", a, b)
    assert r.exit_code == 1, r.output
    assert r.output.splitlines()[5:7] == ["params   ≠ n_estimators 100               200", "5 differences (≠), fields that change from run to run (ids,"]


def test_an_invalid_manifest_is_exit_2(pair, tmp_path: Path):
    a, _, data = pair
    bad = copy.deepcopy(data)
    bad["run"]["status"] = "DONE"
    r = diff("--all-fields", a, write(tmp_path / "bad.yaml", bad))
    assert r.exit_code == 2
    assert "/run/status" in r.stderr


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_no_line_is_wider_than_columns_and_field_names_stay_whole(pair, columns: str):
    a, b, _ = pair
    for extra in ([], ["--all-fields"]):
        lines = diff(*extra, a, b, columns=columns).output.splitlines()
        assert max(len(line) for line in lines) <= int(columns)
        for name in ("n_estimators", "cv_accuracy_mean", "iris-train", "entry_point", "random_state"):
            assert any(f" {name} " in line for line in lines), (columns, name)


def test_without_a_terminal_or_columns_values_are_whole(pair):
    a, b, _ = pair
    r = diff(a, b, columns=None)
    assert r.exit_code == 0
    [line] = [line for line in r.output.splitlines() if line.startswith("code ")]
    assert line.split() == ["code", "repository", "https://github.com/experiment-manifest/experiment-manifest.git", "https://github.com/experiment-manifest/experiment-manifest.git"]


def test_json_flags_volatile_rows_and_follows_all_fields(pair):
    a, b, _ = pair
    r = diff("--format", "json", a, b)
    doc = json.loads(r.output)
    assert r.exit_code == 0 and doc["same"] is True and doc["all_fields"] is False
    assert doc["rows"][0] == {"section": "identity", "field": "id", "a": "urn:uuid:7f9c2ba4-e88f-4d1b-9c3a-2f1e0d5c6b7a", "b": "urn:uuid:33333333-3333-4333-8333-333333333333", "same": False, "counts": False, "volatile": True}
    assert {"section": "params", "field": "n_estimators", "a": 100, "b": 100, "same": True, "counts": True, "volatile": False} in doc["rows"]
    r = diff("--format", "json", "--all-fields", a, b)
    doc = json.loads(r.output)
    assert r.exit_code == 1 and doc["same"] is False and doc["all_fields"] is True
    assert doc["rows"][0]["counts"] is True and doc["rows"][0]["volatile"] is True


@pytest.mark.e2e
def test_the_installed_command_honours_columns(pair):
    a, b, _ = pair
    exe = Path(sys.executable).parent / "manifest"
    proc = subprocess.run([str(exe), "diff", "--all-fields", a, b], capture_output=True, text=True, env=dict(os.environ, COLUMNS="60"), timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert lines[1] == "identity    ≠ id                       urn:uuid:… urn:uuid:…"

"""The ``manifest`` command, run through its installed entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import EXAMPLE, ROOT, minimal

from manifest.document.writer import dumps_json, dumps_yaml

pytestmark = pytest.mark.e2e

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<ptr>/\S*): (?P<msg>.+)$")


def test_version(cli):
    r = cli("--version")
    assert r.returncode == 0
    assert re.match(r"^manifest \d+\.\d+\.\d+ \(spec versions: 1\.0\)$", r.stdout.strip())


def test_valid_example(cli):
    r = cli("validate", str(EXAMPLE))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("1 manifest checked: 1 valid, 0 invalid")


def test_invalid_lines_name_file_position_and_pointer(cli, tmp_path: Path):
    text = EXAMPLE.read_text().replace("status: FINISHED", "status: DONE").replace("  user: researcher\n", "  user: researcher\n  colour: blue\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    r = cli("validate", str(bad))
    assert r.returncode == 1
    lines = r.stdout.strip().splitlines()
    problems = [LINE.match(ln) for ln in lines[:-1]]
    assert all(problems), lines
    by_ptr = {m["ptr"]: m for m in problems if m}
    status_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "status: DONE" in ln)
    assert by_ptr["/run/status"]["line"] == str(status_line)
    assert by_ptr["/run/status"]["col"] == "11"
    assert "not one of" in by_ptr["/run/status"]["msg"]
    colour_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "colour:" in ln)
    assert by_ptr["/run/colour"]["line"] == str(colour_line)
    assert by_ptr["/run/colour"]["col"] == "3"
    assert lines[-1] == "1 manifest checked: 0 valid, 1 invalid (2 errors, 0 warnings)"


def test_json_output(cli, tmp_path: Path, example):
    good = tmp_path / "good.json"
    good.write_text(dumps_json(example))
    del example["run"]["start_time"]
    bad = tmp_path / "bad.json"
    bad.write_text(dumps_json(example))
    r = cli("validate", "--format", "json", str(good), str(bad))
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["valid"] is False
    files = {Path(f["path"]).name: f for f in out["files"]}
    assert files["good.json"]["valid"] is True and files["good.json"]["errors"] == []
    (err,) = files["bad.json"]["errors"]
    assert err["pointer"] == "/run" and err["code"] == "schema-required" and "start_time" in err["message"]
    assert isinstance(err["line"], int) and isinstance(err["column"], int)


def test_stdin(cli):
    r = cli("validate", "-", input=EXAMPLE.read_text())
    assert r.returncode == 0, r.stdout
    r = cli("validate", "-", input=json.dumps(minimal()))
    assert r.returncode == 0, r.stdout
    r = cli("validate", "-", input="spec_version: '1.0'\n")
    assert r.returncode == 1
    assert r.stdout.startswith("-:1:1: /: missing required property")


def test_directory_with_sidecars_and_unrelated_files(cli, tmp_path: Path, example):
    from manifest.core.digests import file_digest
    from manifest.document.writer import dumps_history

    cols = {"step": [0, 1, 2], "timestamp": [10, 20, 30], "value": [0.5, 0.25, 0.125]}
    (tmp_path / "history").mkdir()
    side = tmp_path / "history" / "loss.json"
    side.write_bytes(dumps_history(cols))
    size, digest = file_digest(side)
    example["metrics"]["loss"] = {"value": 0.125, "step": 2, "history_file": {"path": "history/loss.json", "size": size, "digest": digest, "points": 3}}
    (tmp_path / "run.yaml").write_text(dumps_yaml(example))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "other.json").write_text('{"unrelated": true}')
    r = cli("validate", str(tmp_path))
    assert r.returncode == 0, r.stdout
    assert f"{tmp_path / 'notes.txt'}: skipped: not a .yaml, .yml or .json file" in r.stdout
    assert f"{tmp_path / 'other.json'}: skipped: no spec_version at the top level: not a manifest" in r.stdout
    assert "loss.json" not in r.stdout.replace("1 history file", "")  # the sidecar is not "skipped"
    assert r.stdout.strip().splitlines()[-1] == "1 manifest checked: 1 valid, 0 invalid; 1 history file checked with their manifests; 2 files skipped"

    side.write_bytes(dumps_history({**cols, "value": [0.5, 0.25, 0.126]}))  # same size, other bytes
    r = cli("validate", str(tmp_path))
    assert r.returncode == 1
    assert "/metrics/loss/history_file/digest/sha256: history file 'history/loss.json' has sha256" in r.stdout


def test_schema_command(cli):
    r = cli("schema")
    assert r.returncode == 0
    assert r.stdout == (ROOT / "schemas" / "manifest-1.0.schema.json").read_text()
    assert cli("schema", "--version", "1.0").stdout == r.stdout
    r = cli("schema", "--version", "9.9")
    assert r.returncode == 2 and "knows 1.0" in r.stderr and "Traceback" not in r.stderr


def test_usage_errors_exit_2(cli):
    r = cli("validate")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("validate", "--format", "xml", str(EXAMPLE))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_validate_imports_neither_mlflow_nor_sklearn(tmp_path: Path):
    """Run the real entry point function in a fresh interpreter and inspect sys.modules after."""
    probe = (
        "import sys\n"
        "from manifest.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(EXAMPLE)!r}])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'sklearn', 'pandas', 'numpy'))\n"
        "print(code, heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("0 []"), r.stdout

"""Paths the user got wrong are usage errors (exit 2) with one line, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.paths import EXAMPLE

pytestmark = pytest.mark.e2e


def test_import_from_standard_input_is_a_usage_error(cli):
    r = cli("import", "-", input=EXAMPLE.read_text())
    assert r.returncode == 2, r.stderr
    assert "not standard input" in r.stderr and "internal error" not in r.stderr


def test_export_to_a_file_in_a_missing_directory_is_a_usage_error(cli, tmp_path: Path):
    target = tmp_path / "dir" / "that" / "does" / "not" / "exist" / "x.yaml"
    r = cli("export", "0123456789abcdef0123456789abcdef", "--tracking-uri", f"sqlite:///{tmp_path}/none.db", "-o", str(target))
    assert r.returncode == 2, r.stderr
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "dir").exists()


def test_export_below_a_file_is_a_usage_error(cli, tmp_path: Path):
    (tmp_path / "plain").write_text("x")
    r = cli("export", "0123456789abcdef0123456789abcdef", "--tracking-uri", f"sqlite:///{tmp_path}/none.db", "-o", str(tmp_path / "plain" / "x.yaml"))
    assert r.returncode == 2, r.stderr
    assert "is not a directory" in r.stderr


def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(cli, tmp_path: Path):
    (tmp_path / "plain").write_text("x")
    r = cli("env", str(EXAMPLE), "--format", "requirements", "-o", str(tmp_path / "plain" / "req.txt"))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("manifest: ") and "internal error" not in r.stderr, r.stderr


@pytest.mark.parametrize("command", ["export", "import"])
def test_a_mistyped_tracking_uri_scheme_is_named_with_the_nearest_one(cli, tmp_path: Path, command: str):
    target = "0123456789abcdef0123456789abcdef" if command == "export" else str(EXAMPLE)
    r = cli(command, target, "--tracking-uri", "htp://user:secret@127.0.0.1:5000")
    assert r.returncode == 2, r.stderr
    assert "unknown scheme 'htp'" in r.stderr and "did you mean 'http'?" in r.stderr
    assert "secret" not in r.stderr and "Traceback" not in r.stderr


def test_diff_exits_0_equal_1_different_2_invalid(cli, tmp_path: Path):
    from manifest.document.reader import load_path
    from manifest.document.writer import dumps_yaml

    data = load_path(EXAMPLE).data
    other = tmp_path / "other.yaml"
    data["params"]["n_estimators"] = 200
    other.write_text(dumps_yaml(data))
    bad = tmp_path / "bad.yaml"
    data["run"]["status"] = "DONE"
    bad.write_text(dumps_yaml(data))
    assert cli("diff", str(EXAMPLE), str(EXAMPLE)).returncode == 0
    r = cli("diff", str(EXAMPLE), str(other))
    assert r.returncode == 1 and "n_estimators" in r.stdout, r.stdout
    r = cli("diff", str(EXAMPLE), str(bad))
    assert r.returncode == 2 and "/run/status" in r.stderr and "Traceback" not in r.stderr, r.stderr

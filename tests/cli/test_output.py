"""Output for people and for scripts: a progress bar on a terminal (cleared when done, never in a
pipe), --quiet, --report json, and none of MLflow's own chatter ("View run ...", INFO lines)."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import minimal

from manifest.cli.app import MaskedStream, TerminalBar
from manifest.document.writer import dumps_yaml

BIN = Path(sys.executable).parent / "manifest"


def test_the_bar_counts_runs_resets_its_detail_and_is_cleared():
    out = io.StringIO()
    ticks = iter(range(0, 100))
    bar = TerminalBar(out, enabled=True, width=80, clock=lambda: float(next(ticks)))  # a second between calls: none throttled
    bar.start(3, "runs")
    bar.detail("first: 2/5 metric histories")
    bar.advance("first")
    bar.log("exported run 1")
    bar.advance("second")
    bar.advance("third")
    bar.finish()
    text = out.getvalue()
    frames = [f for f in text.split("\r\x1b[K") if f]
    assert frames[0] == "[....................] 0/3 runs"
    assert frames[1] == "[....................] 0/3 runs  first: 2/5 metric histories"
    assert frames[2] == "[######..............] 1/3 runs  first"  # the detail of the last run is gone
    assert frames[3] == "exported run 1\n"  # a message line replaces the bar, which comes back under it
    assert frames[-1] == "[####################] 3/3 runs  third"
    assert text.endswith("\r\x1b[K")  # cleared: the next line starts clean


def test_no_bar_without_a_terminal():
    out = io.StringIO()
    bar = TerminalBar(out, enabled=False)
    bar.start(2, "runs")
    bar.advance("a")
    bar.log("a line")
    bar.finish()
    assert out.getvalue() == "a line\n"


def test_mlflow_view_run_lines_are_dropped_and_the_rest_masked():
    out = io.StringIO()
    s = MaskedStream(out)
    s.write("🏃 View run fluent at: http://user:secret@host/#/experiments/1/runs/abc\n")
    s.write("🧪 View experiment at: http://host/#/experiments/1\nkept ")
    s.write("http://user:secret@host/ line\n")
    s.flush()
    assert out.getvalue() == "kept http://***@host/ line\n"


def _manifests(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(n):
        data = minimal()
        data["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        data["name"] = f"run-{i}"
        (d / f"run-{i}.yaml").write_text(dumps_yaml(data))
    return d


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run with standard error on a pseudo-terminal (standard output a pipe), as in a shell
    with ``| tee``; returns (status, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, cwd=cwd, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    os.close(master)
    return proc.wait(timeout=300), stdout, shown.decode("utf-8", "replace")


@pytest.mark.e2e
def test_import_on_a_terminal_draws_a_bar_and_clears_it(tmp_path):
    d = _manifests(tmp_path, 3)
    status, stdout, shown = _on_a_terminal([str(BIN), "import", "--tracking-uri", f"sqlite:///{tmp_path}/t.db", str(d)], tmp_path)
    assert status == 0, shown
    assert len(stdout.split()) == 3  # the run ids, and nothing else, on standard output
    assert "[####################] 3/3 runs" in shown
    report = shown.index("runs: 3 imported, 0 already there (skipped), 0 not imported, of 3")  # the closing report
    assert shown.rindex("] 3/3 runs") < shown.rindex("\x1b[K") < report  # the bar is cleared at the end, before the report
    assert "\x1b[" not in shown[report:]  # and nothing is drawn after it
    assert "INFO" not in shown and "Creating initial MLflow database tables" not in shown  # MLflow's own log lines
    assert "imported " in shown


@pytest.mark.e2e
def test_quiet_shows_no_bar_and_no_line_per_run(tmp_path):
    d = _manifests(tmp_path, 2)
    status, stdout, shown = _on_a_terminal([str(BIN), "import", "--quiet", "--tracking-uri", f"sqlite:///{tmp_path}/t.db", str(d)], tmp_path)
    assert status == 0, shown
    assert len(stdout.split()) == 2
    assert shown == ""


@pytest.mark.e2e
def test_report_json_maps_source_runs_to_new_runs_and_files(tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path}/src.db"
    client = mlflow.MlflowClient(uri)
    exp = client.create_experiment("reported")
    made = []
    for name in ("a", "b"):
        run = client.create_run(exp, run_name=name)
        client.log_param(run.info.run_id, "p", name)
        client.set_terminated(run.info.run_id)
        made.append(run.info.run_id)
    e = subprocess.run([str(BIN), "export", "--experiment", "reported", "--tracking-uri", uri, "-o", str(tmp_path / "out"), "--report", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert e.returncode == 0, e.stderr
    exported = json.loads(e.stdout)
    assert sorted(x["run_id"] for x in exported["exported"]) == sorted(made)
    assert all(Path(x["file"]).is_file() for x in exported["exported"])
    assert exported["index"] == str(tmp_path / "out" / "export-index.json")
    i = subprocess.run([str(BIN), "import", str(tmp_path / "out"), "--tracking-uri", f"sqlite:///{tmp_path}/dst.db", "--report", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert i.returncode == 0, i.stderr
    imported = json.loads(i.stdout)
    assert sorted(x["source_run_id"] for x in imported["imported"]) == sorted(made)
    assert {x["source_experiment"] for x in imported["imported"]} == {"reported"}
    dst = mlflow.MlflowClient(f"sqlite:///{tmp_path}/dst.db")
    for x in imported["imported"]:
        assert dst.get_run(x["run_id"]).data.tags["manifest.source.run_id"] == x["source_run_id"]
    again = subprocess.run([str(BIN), "import", str(tmp_path / "out"), "--tracking-uri", f"sqlite:///{tmp_path}/dst.db", "--report", "json", "--skip-existing"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    skipped = json.loads(again.stdout)
    assert skipped["imported"] == [] and sorted(x["run_id"] for x in skipped["skipped"]) == sorted(x["run_id"] for x in imported["imported"])


def test_report_json_with_standard_output_is_a_usage_error(tmp_path):
    r = subprocess.run([str(BIN), "export", "abc", "--report", "json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--report json needs -o FILE or DIRECTORY" in r.stderr

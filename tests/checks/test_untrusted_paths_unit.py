"""Bundles and directories are untrusted: their lists stay inside them, special files are never
opened, and names from documents cannot drive the terminal."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from support.paths import EXAMPLE, minimal

from manifest.bundle.checking import check_bundle
from manifest.checks.batch import validate_paths
from manifest.checks.diff import compare, render_text
from manifest.core.digests import file_digest
from manifest.document.writer import dumps_yaml


def _bundle(tmp_path: Path) -> Path:
    d = tmp_path / "bundle"
    (d / "manifests").mkdir(parents=True)
    (d / "manifests" / "m.yaml").write_text(dumps_yaml(minimal()))
    sha = file_digest(d / "manifests" / "m.yaml")[1]["sha256"]
    (d / "index.json").write_text(json.dumps({"bundle_version": 1, "manifests": [{"path": "manifests/m.yaml", "sha256": sha}]}))
    sums = [f"{file_digest(d / rel)[1]['sha256']}  {rel}" for rel in ("index.json", "manifests/m.yaml")]
    (d / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return d


def test_a_checksum_line_or_index_entry_outside_the_bundle_is_refused_unread(tmp_path: Path):
    d = _bundle(tmp_path)
    assert check_bundle(d) == []
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    with (d / "SHA256SUMS").open("a") as fh:
        fh.write(f"{'0' * 64}  ../secret.txt\n{'0' * 64}  {secret}\n")
    index = json.loads((d / "index.json").read_text())
    index["manifests"].append({"path": "../secret.txt", "sha256": "0" * 64})
    (d / "index.json").write_text(json.dumps(index))
    problems = [(p.code, p.line) for p in check_bundle(d)]
    assert ("unsafe-path", 3) in problems and ("unsafe-path", 4) in problems
    assert ("unsafe-path", None) in problems  # the index entry
    assert not any(code in ("bundle-file-missing", "bundle-checksum-mismatch") and "secret" in str(line) for code, line in problems)


def test_fifos_in_a_directory_are_skipped_never_opened(tmp_path: Path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "good.yaml").write_text(EXAMPLE.read_text())
    os.mkfifo(d / "trap.yaml")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(validate_paths([str(d)], jobs=1)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "validate waited on a FIFO"
    outcome = result[0]
    assert outcome.valid and [r.file for r in outcome.reports] == [str(d / "good.yaml")]
    assert outcome.skipped == [(str(d / "trap.yaml"), "not a regular file (a FIFO, device, socket or dangling link): never opened")]


def test_a_fifo_named_explicitly_is_refused_unopened(tmp_path: Path):
    os.mkfifo(tmp_path / "trap.yaml")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(validate_paths([str(tmp_path / "trap.yaml")], jobs=1)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "validate waited on a FIFO"
    [report] = result[0].reports
    assert report.unreadable and [p.code for p in report.problems] == ["not-a-regular-file"]


def test_control_characters_from_documents_do_not_reach_the_terminal_in_diff():
    a, b = minimal(), minimal()
    a["params"] = {"evil\x1b[2Jname": "x\rhidden"}
    b["params"] = {"evil\x1b[2Jname": "y"}
    text = render_text(compare(a, b), ("a\x07.yaml", "b.yaml"))
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "\\u001b[2Jname" in text and "x\\rhidden" in text

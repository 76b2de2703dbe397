"""Fast unit tests of manifest.checks.report: text lines, summary wording, JSON structure."""

from __future__ import annotations

import json

from manifest.checks.batch import Outcome
from manifest.checks.report import render_json, render_text, summary
from manifest.core.problems import Problem, Report


def test_all_valid():
    out = Outcome(reports=[Report("a.yaml"), Report("b.yaml")])
    assert render_text(out) == "2 manifests checked: 2 valid, 0 invalid\n"
    assert render_text(out, verbose=True) == "a.yaml: ok\nb.yaml: ok\n2 manifests checked: 2 valid, 0 invalid\n"


def test_problem_lines_and_counts():
    bad = Report("bad.yaml", problems=[
        Problem("bad-package", "'x y': '1' is not a pin", "/environment/packages/x y", 7, 5),
        Problem("end-time-missing", "no end_time", "/run"),
    ])
    out = Outcome(reports=[Report("good.yaml"), bad], skipped=[("notes.txt", "not a manifest")], sidecars=["h/loss.json"])
    assert render_text(out).splitlines() == [
        "bad.yaml:7:5: /environment/packages/x y: 'x y': '1' is not a pin",
        "bad.yaml: /run: warning: no end_time",
        "notes.txt: skipped: not a manifest",
        "2 manifests checked: 1 valid, 1 invalid (1 error, 1 warning); 1 history file checked with their manifests; 1 file skipped",
    ]


def test_summary_wording_for_bundles_unreadable_and_plurals():
    bundle_ok = Report("paper/", kind="bundle")
    bundle_bad = Report("old/", kind="bundle", problems=[Problem("bundle-file-missing", "x is missing", file="old/x")])
    gone = Report("gone.yaml", problems=[Problem("not-found", "no such file")], unreadable=True)
    warned = Report("w.yaml", problems=[Problem("end-time-missing", "a"), Problem("end-time-missing", "b")])
    assert summary(Outcome(reports=[warned, bundle_ok])) == "1 manifest checked: 1 valid, 0 invalid (0 errors, 2 warnings); 1 bundle checked: checksums and index intact"
    assert summary(Outcome(reports=[bundle_ok, bundle_bad])) == "0 manifests checked: 0 valid, 0 invalid (1 error, 0 warnings); 2 bundles checked (1 with checksum or index problems)"
    assert summary(Outcome(reports=[gone], skipped=[("a", "r"), ("b", "r")], sidecars=["s1", "s2"])) == (
        "0 manifests checked: 0 valid, 0 invalid (1 error, 0 warnings); 1 path unreadable; 2 history files checked with their manifests; 2 files skipped"
    )


def test_problem_with_its_own_file_keeps_it():
    out = Outcome(reports=[Report("paper/", kind="bundle", problems=[Problem("bundle-file-missing", "results.md is listed in SHA256SUMS but missing", file="paper/results.md")])])
    assert render_text(out).splitlines()[0] == "paper/results.md: results.md is listed in SHA256SUMS but missing"


def test_control_characters_are_escaped():
    r = Report("evil\nname.yaml", problems=[Problem("bad-package", "bad\x1b[2Jname\r", "/a\tb", 1, 2)])
    out = Outcome(reports=[r], skipped=[("x\u2028y", "not a manifest")])
    assert render_text(out, verbose=True).splitlines() == [
        "evil\\nname.yaml:1:2: /a\\tb: bad\\u001b[2Jname\\r",
        "x\\u2028y: skipped: not a manifest",
        "1 manifest checked: 0 valid, 1 invalid (1 error, 0 warnings); 1 file skipped",
    ]


def test_render_json_structure():
    bad = Report("bad.yaml", problems=[Problem("bad-package", "not a pin", "/environment/packages/x", 3, 4), Problem("end-time-missing", "no end_time", "/run")])
    out = Outcome(reports=[bad, Report("ok.yaml")], skipped=[("n.txt", "not a manifest")], sidecars=["h.json"])
    assert json.loads(render_json(out)) == {
        "valid": False,
        "files": [
            {
                "path": "bad.yaml",
                "kind": "manifest",
                "valid": False,
                "errors": [{"code": "bad-package", "message": "not a pin", "pointer": "/environment/packages/x", "line": 3, "column": 4, "severity": "error"}],
                "warnings": [{"code": "end-time-missing", "message": "no end_time", "pointer": "/run", "severity": "warning"}],
            },
            {"path": "ok.yaml", "kind": "manifest", "valid": True, "errors": [], "warnings": []},
        ],
        "history_files": ["h.json"],
        "skipped": [{"path": "n.txt", "reason": "not a manifest"}],
        "summary": "2 manifests checked: 1 valid, 1 invalid (1 error, 1 warning); 1 history file checked with their manifests; 1 file skipped",
    }
    assert render_json(out, verbose=True) == render_json(out)
    assert json.loads(render_json(Outcome()))["valid"] is False  # nothing checked is not a success

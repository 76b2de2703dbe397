"""Rules of ``run`` (spec 15.1): times and status agree."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem

TERMINAL = {"FINISHED", "FAILED", "KILLED"}


def run_times(d: dict[str, Any]) -> Iterator[Problem]:
    run = d["run"]
    end = run.get("end_time")
    if end is not None and end < run["start_time"]:  # fixed-width UTC form: text order is time order
        yield Problem("end-before-start", f"end_time {end} is before start_time {run['start_time']}", "/run/end_time")
    if end is None and run["status"] in TERMINAL:
        yield Problem("end-time-missing", f"a {run['status']} run should have an end_time", "/run")
    if end is not None and run["status"] == "RUNNING":
        yield Problem("end-time-while-running", "a RUNNING run has an end_time", "/run/end_time")
    if "error" in run and run["status"] not in ("FAILED", "KILLED"):
        yield Problem("error-without-failure", f"a {run['status']} run records an error; error says why a run FAILED or was KILLED", "/run/error")

"""One timed command of the validate part (a fresh process per sample, through ``_child.py``), the
round-robin that runs a group of them, and what their output must say."""

from __future__ import annotations

from typing import Any, Callable

from .common import ROOT, RunFailed, base_env, child_report, last_line, median, short, spawn_child, spread

ENV = base_env(inherit_mlflow=True)
Expect = tuple[Callable[[str], bool], str]


class ValidateCase:
    """One command to time: its label, argv, how many repetitions, what its output must say."""

    def __init__(self, key: str, label: str, cmd: list[str], reps: int, expect: Callable[[str], bool], expect_text: str) -> None:
        self.key, self.label, self.cmd, self.reps = key, label, cmd, reps
        self.expect, self.expect_text = expect, expect_text
        self.samples: list[dict[str, Any]] = []
        self.section = ""

    def measure(self) -> dict[str, Any]:
        r = child_report(spawn_child(self.cmd, cwd=ROOT, env=ENV), self.label)
        r["summary"] = last_line(r["stdout_tail"])
        r["as_expected"] = r["rc"] == 0 and self.expect(r["stdout_tail"])
        self.samples.append(r)
        if not r["as_expected"]:
            raise RunFailed(
                f"{self.label}: exit code {r['rc']} (expected 0) or unexpected output (expected {self.expect_text!r})\n"
                f"command: {short(self.cmd, limit=8)}\nstdout (tail): {r['stdout_tail'][-1500:]}\nstderr (tail): {r['stderr_tail'][-1500:]}"
            )
        return r

    def stats(self) -> dict[str, Any]:
        walls = [x["wall_s"] for x in self.samples]
        wall = spread(walls)
        return {
            "label": self.label,
            "command": short(self.cmd, limit=8),
            "reps": len(walls),
            "wall_s": walls,
            "median_s": wall["median"],
            "min_s": wall["min"],
            "max_s": wall["max"],
            "cpu_s_median": median(x["cpu_s"] for x in self.samples),
            "peak_rss_mib_median": median(x["maxrss_kib"] for x in self.samples) / 1024,
            "exit_codes": [x["rc"] for x in self.samples],
            "summary": self.samples[-1]["summary"] if self.samples else None,
            "expected_output": self.expect_text,
        }


def run_group(cases: list[ValidateCase], *, warmup: list[ValidateCase] = (), log: Callable[[str], None]) -> None:  # type: ignore[assignment]
    """Run the cases round-robin (so drift of the machine hits all alike) until each has its reps."""
    for c in warmup:
        c.measure()
        c.samples.clear()
    rnd = 0
    while any(len(c.samples) < c.reps for c in cases):
        rnd += 1
        for c in cases:
            if len(c.samples) < c.reps:
                r = c.measure()
                log(f"    round {rnd}: {c.label:<44} {r['wall_s']:8.3f} s  rc={r['rc']}")


def summary_is(text: str) -> Expect:
    return (lambda out: last_line(out) == text), text


def ours_valid(n: int, extra: str = "") -> Expect:
    return summary_is(f"{n} manifest{'s' if n != 1 else ''} checked: {n} valid, 0 invalid{extra}")


CJ_OK: Expect = ((lambda out: "ok -- validation done" in out), "ok -- validation done")
ANY: Expect = ((lambda out: True), "(exit code 0)")

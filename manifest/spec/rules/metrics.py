"""Rules of metric histories (spec 9.2, 15.5): equal columns, order, and the final value; long
histories in sidecars."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem
from ...core.reals import same_real

#: Spec 9.4: a history of more points than this belongs in a sidecar file.
INLINE_HISTORY_MAX_POINTS = 10_000


def history_problems(cols: dict[str, Any], ptr: str) -> Iterator[Problem]:
    """Rules of one history's own columns (inline or sidecar): equal lengths and order."""
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    if not (len(steps) == len(times) == len(values)):
        yield Problem("history-length-mismatch", f"step, timestamp and value have {len(steps)}, {len(times)} and {len(values)} items; they must be equal", ptr)
        return
    for i in range(1, len(steps)):
        if steps[i] < steps[i - 1]:
            yield Problem("history-steps-decreasing", f"step {steps[i]} follows step {steps[i - 1]}; points must be ordered by step", f"{ptr}/step/{i}")
            return
        if steps[i] == steps[i - 1] and times[i] < times[i - 1]:
            yield Problem("history-timestamps-decreasing", f"at step {steps[i]}, timestamp {times[i]} follows {times[i - 1]}; points of one step must be ordered by timestamp", f"{ptr}/timestamp/{i}")
            return


def final_value_problems(cols: dict[str, Any], metric: dict[str, Any], metric_ptr: str) -> Iterator[Problem]:
    """The metric's final value (and step, timestamp) must be those of the history's last point."""
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    if not steps or not (len(steps) == len(times) == len(values)):
        return
    last_step, last_time = steps[-1], times[-1]
    finals = [values[i] for i in range(len(steps) - 1, -1, -1) if steps[i] == last_step and times[i] == last_time]
    if not any(same_real(metric["value"], v) for v in finals):
        yield Problem("final-value-mismatch", f"value {metric['value']!r} is not the value of the history's last point ({finals[0]!r} at step {last_step})", f"{metric_ptr}/value")
    if "step" in metric and metric["step"] != last_step:
        yield Problem("final-step-mismatch", f"step {metric['step']} is not the history's last step {last_step}", f"{metric_ptr}/step")
    if "timestamp" in metric and metric["timestamp"] != last_time:
        yield Problem("final-timestamp-mismatch", f"timestamp {metric['timestamp']} is not the history's last timestamp {last_time}", f"{metric_ptr}/timestamp")


def metric_estimates(d: dict[str, Any]) -> Iterator[Problem]:
    """A metric's dataset names a data input; its interval is an interval, and holds the value."""
    inputs = {i.get("name") for i in d.get("data") or []}
    for name, m in (d.get("metrics") or {}).items():
        mptr = join_pointer(["metrics", name])
        if "dataset" in m and m["dataset"] not in inputs:
            yield Problem("metric-unknown-dataset", f"dataset {m['dataset']!r} names no data input (data[].name)", f"{mptr}/dataset")
        iv = m.get("interval")
        if iv is None:
            continue
        if iv["lower"] > iv["upper"]:
            yield Problem("interval-reversed", f"the interval's lower bound {iv['lower']!r} is above its upper bound {iv['upper']!r}", f"{mptr}/interval")
        elif isinstance(m["value"], (int, float)) and not iv["lower"] <= m["value"] <= iv["upper"]:
            yield Problem("value-outside-interval", f"value {m['value']!r} is outside its interval [{iv['lower']!r}, {iv['upper']!r}]", f"{mptr}/value")


def metric_histories(d: dict[str, Any]) -> Iterator[Problem]:
    for name, m in (d.get("metrics") or {}).items():
        mptr = join_pointer(["metrics", name])
        if "history" in m:
            own = list(history_problems(m["history"], f"{mptr}/history"))
            yield from own
            if not own:
                yield from final_value_problems(m["history"], m, mptr)


def history_placement(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``long-inline-history`` (spec 9.4): every reader of the manifest reads an inline
    history, and a long one makes the manifest slow to read and to diff; a sidecar is read only by
    those who need the points (and is checked by its size and digest)."""
    for name, m in (d.get("metrics") or {}).items():
        cols = m.get("history")
        if not cols:
            continue
        points = max(len(cols["step"]), len(cols["timestamp"]), len(cols["value"]))
        if points > INLINE_HISTORY_MAX_POINTS:
            yield Problem("long-inline-history", f"the inline history has {points} points; move a history of more than {INLINE_HISTORY_MAX_POINTS:,} points to a sidecar file (history_file)", join_pointer(["metrics", name, "history"]))

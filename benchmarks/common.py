"""What every part of the benchmarks shares: paths, the children's environment, the measurement
helper (``_child.py``), statistics, the table printer, and a few machine facts."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
BIN = Path(PY).parent  # the venv's bin (not resolved: that would leave the venv)
MANIFEST = str(BIN / "manifest")
CHILD = str(HERE / "_child.py")  # run by path: it imports no sibling module, and some cases run it outside ROOT
PYCACHE = ROOT / ".bench" / "pycache"
# Measure the normal, installed condition: bytecode cached. PYTHONDONTWRITEBYTECODE=1 (set in some
# sandboxes) plus an editable install without __pycache__ would recompile manifest/*.py on every
# start (~10-30 ms). Compiled files go to .bench/pycache (git-ignored), never next to the sources;
# the warm-up runs fill it.
BYTECODE_ENV_AS_FOUND = os.environ.get("PYTHONDONTWRITEBYTECODE")


class RunFailed(Exception):
    """A run that did not do what it had to: the benchmark stops (its figures would mean nothing)."""


# --------------------------------------------------------------------------- children


def base_env(*, inherit_mlflow: bool = False) -> dict[str, str]:
    """The environment of every child: telemetry off, bytecode cached under ``.bench/pycache``.

    ``inherit_mlflow=False`` (the export/import part) also drops every inherited ``MLFLOW_*`` variable.
    """
    env = {k: v for k, v in os.environ.items() if inherit_mlflow or not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONPYCACHEPREFIX": str(PYCACHE)})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def spawn_child(cmd: list[str], *, cwd: Path | str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` under a fresh ``_child.py``, which times it and reads its peak RSS."""
    return subprocess.run([PY, CHILD, *cmd], cwd=cwd, env=env, capture_output=True, text=True)


def child_report(p: subprocess.CompletedProcess[str], label: str) -> dict[str, Any]:
    """The JSON line ``_child.py`` printed, after checking that the helper itself worked."""
    if p.returncode != 0:
        raise RunFailed(f"measurement helper failed for {label}:\n{p.stderr}")
    r = last_json(p.stdout)
    if r["maxrss_before_kib"] != 0:
        raise RunFailed("the helper process had a child before the measurement; its RSS figure would be wrong")
    return r


def last_line(text: str) -> str:
    """The last line of ``text`` (stripped), or ``""``."""
    return (text.strip().splitlines() or [""])[-1]


def last_json(text: str) -> Any:
    """The JSON value on the last line of ``text`` (a fresh-process helper's report)."""
    return json.loads(text.strip().splitlines()[-1])


# --------------------------------------------------------------------------- statistics


def median(xs: Iterable[float | None]) -> float | None:
    """The median of the values that are not None, or None if there are none."""
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def spread(xs: list[float]) -> dict[str, float | None]:
    """``median``, ``min`` and ``max`` of ``xs`` (each None if ``xs`` is empty)."""
    return {"median": median(xs), "min": min(xs) if xs else None, "max": max(xs) if xs else None}


# --------------------------------------------------------------------------- printing


def log(msg: str) -> None:
    print(msg, flush=True)


def write_json(path: Path, data: Any, *, default: Callable[[Any], Any] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=default))


def table(headers: list[str], rows: list[list[Any]], align: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def seconds(x: float | None, *, places: tuple[int, int] = (3, 2), switch: float = 10.0) -> str:
    """``x`` seconds with ``places[0]`` decimals below ``switch``, ``places[1]`` from there; ``-`` for None."""
    if x is None:
        return "-"
    return f"{x:.{places[0]}f} s" if x < switch else f"{x:.{places[1]}f} s"


def mebibytes(x: float | None, *, fine_below: float = 10.0) -> str:
    """``x`` MiB, with one decimal below ``fine_below``; ``-`` for None."""
    if x is None:
        return "-"
    return f"{x:,.0f} MiB" if x >= fine_below else f"{x:.1f} MiB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def rel_to_root(p: str) -> str:
    """``p`` relative to the repository root if it lies under it (as the commands are given it)."""
    return os.path.relpath(p, ROOT) if p.startswith(str(ROOT)) else p


def short_path(c: str) -> str:
    """One argument as printed: the venv's programs as ``.venv/bin/...``, paths under the root relative to it."""
    for prefix, shown in ((str(BIN) + "/", ".venv/bin/"), (str(ROOT) + "/", "")):
        if c.startswith(prefix):
            return shown + c[len(prefix) :]
    return c


def short(cmd: list[str], *, limit: int | None = None) -> str:
    """A command as printed; with ``limit``, a longer one is cut to its first ``limit - 2`` arguments."""
    shown = [short_path(c) for c in cmd]
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 2] + [f"... ({len(shown) - (limit - 2)} more)"]
    return " ".join(shown)


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or ``""``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def loadavg_text(la: Iterable[float] | None) -> str:
    return ", ".join(f"{x:.2f}" for x in la) if la else "?"

"""The reader-limits benchmark: the costliest documents the default limits let through.

Issue 11 asks that any file under the default size limit validates within about 10 s and 1 GB.
Cost follows the number of values, not bytes, so each case packs as many small values as the limit
allows, in a different construct: YAML block sequences, wrapped flow sequences (not the one-line
lists the reader reads as JSON), one-line lists, a million-member mapping, and the JSON versions.
YAML is held to 16 MiB of parsed text (a quarter of the 64 MiB file limit), JSON to 64 MiB.

Each case is one fresh ``manifest validate`` under ``_child.py`` (wall time, peak RSS). The peer, for
YAML, is ruamel.yaml's own safe loader (with the same core-schema resolver) reading the same file in
a fresh process: what the reader used before it built values from parser events. Inputs go to
``.bench/limits`` (git-ignored), written once per generator version.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable

from .common import MANIFEST, PY, ROOT, RunFailed, base_env, child_report, spawn_child, table

EXAMPLE = ROOT / "examples" / "iris" / "manifest.yaml"
OUT = ROOT / ".bench" / "limits"
GENERATOR_VERSION = 1
T0 = 1795754294700
MIB = 1 << 20
TARGET_S, TARGET_MIB = 10.0, 1024
RUAMEL = (
    "import sys\nfrom ruamel.yaml import YAML\nfrom manifest.document.yaml_core import CoreResolver\n"
    "y = YAML(typ='safe', pure=False); y.Resolver = CoreResolver\nd = y.load(open(sys.argv[1], encoding='utf-8').read())\n"
)


def _base() -> dict[str, Any]:
    from manifest.document.reader import load_path

    return load_path(EXAMPLE).data


def _with_loss(base: dict[str, Any], n: int) -> dict[str, Any]:
    d = copy.deepcopy(base)
    d["metrics"]["loss"] = {"value": 0.5, "step": n - 1, "timestamp": T0 + n - 1, "history": {"step": [777001], "timestamp": [777002], "value": [777003]}}
    return d


def _columns(n: int) -> tuple[list[str], list[str], list[str]]:
    return [str(i) for i in range(n)], [str(T0 + i) for i in range(n)], ["0.5"] * n


def _block(base: dict[str, Any], n: int) -> str:
    from manifest.document.writer import dumps_yaml

    t = dumps_yaml(_with_loss(base, n))
    ind = re.search(r"^( *)step: \[777001\]$", t, re.M).group(1)  # type: ignore[union-attr]
    for key, marker, vals in zip(("step", "timestamp", "value"), ("[777001]", "[777002]", "[777003]"), _columns(n)):
        t = t.replace(f"{ind}{key}: {marker}", f"{ind}{key}:\n" + "\n".join(f"{ind}  - {v}" for v in vals))
    return t


def _wrapped(vals: list[str]) -> str:
    return "[" + ",\n          ".join(", ".join(vals[i : i + 12]) for i in range(0, len(vals), 12)) + "]"


def _flow(base: dict[str, Any], n: int, *, one_line: bool) -> str:
    from manifest.document.writer import dumps_yaml

    t = dumps_yaml(_with_loss(base, n))
    for marker, vals in zip(("[777001]", "[777002]", "[777003]"), _columns(n)):
        t = t.replace(marker, "[" + ", ".join(vals) + "]" if one_line else _wrapped(vals))
    return t


def _history_json(base: dict[str, Any], n: int) -> str:
    d = _with_loss(base, n)
    d["metrics"]["loss"]["history"] = {"step": list(range(n)), "timestamp": [T0 + i for i in range(n)], "value": [0.5] * n}
    return json.dumps(d, separators=(",", ":"))


def _members(base: dict[str, Any], n: int, *, key: str, fmt: str) -> str:
    """``n`` more members of ``params`` (integers) or ``tags`` (strings), written line by line (the
    project's writer takes minutes over a million members)."""
    from manifest.document.writer import dumps_yaml

    d = copy.deepcopy(base)
    value = (lambda i: str(i)) if key == "params" else (lambda i: '"x"' if fmt == "json" else "x")
    if fmt == "json":
        d.setdefault(key, {})["p_first"] = 0 if key == "params" else "x"
        text = json.dumps(d, separators=(",", ":"))
        first = f'"p_first":{json.dumps(d[key]["p_first"])}'
        return text.replace(first, first + "," + ",".join(f'"p{i}":{value(i)}' for i in range(n)), 1)
    d.pop(key, None)
    keep = base.get(key) or {}
    lines = [f"{key}:"] + [f"  {k}: {json.dumps(x)}" for k, x in keep.items()] + [f"  p{i}: {value(i)}" for i in range(n)]
    return dumps_yaml(d) + "\n".join(lines) + "\n"


#: name -> (generator of a document with ``n`` values, bytes per value to start from, byte budget)
CASES: dict[str, tuple[Callable[[dict[str, Any], int], str], int, int]] = {
    "yaml-block-sequences.yaml": (_block, 39, 16 * MIB),
    "yaml-wrapped-flow.yaml": (lambda b, n: _flow(b, n, one_line=False), 27, 16 * MIB),
    "yaml-params-mapping.yaml": (lambda b, n: _members(b, n, key="params", fmt="yaml"), 12, 16 * MIB),
    "yaml-tags-mapping.yaml": (lambda b, n: _members(b, n, key="tags", fmt="yaml"), 12, 16 * MIB),
    "yaml-one-line-lists.yaml": (lambda b, n: _flow(b, n, one_line=True), 27, 64 * MIB),
    "json-history.json": (_history_json, 27, 64 * MIB),
    "json-params.json": (lambda b, n: _members(b, n, key="params", fmt="json"), 12, 64 * MIB),
    "json-tags.json": (lambda b, n: _members(b, n, key="tags", fmt="json"), 12, 64 * MIB),
}


def _fit(make: Callable[[int], str], per_value: int, budget: int) -> str:
    """The largest document ``make`` gives within ``budget`` bytes (a few shrinking tries)."""
    n = budget // per_value
    while True:
        text = make(n)
        size = len(text.encode())
        if size <= budget - 4096:
            return text
        n = int(n * (budget - 4096) / size * 0.995)


def inputs(log: Callable[[str], None]) -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = OUT / "stamp.json"
    want = {"generator_version": GENERATOR_VERSION, "cases": sorted(CASES), "example": EXAMPLE.read_text()}
    paths = {name: OUT / name for name in CASES}
    current = stamp.exists() and json.loads(stamp.read_text()) == want
    base = _base()
    for name, (make, per, budget) in CASES.items():
        if current and paths[name].exists():
            continue
        log(f"  writing {name} (up to {budget // MIB} MiB)")
        paths[name].write_text(_fit(lambda n, make=make: make(base, n), per, budget), encoding="utf-8")  # type: ignore[misc]
    stamp.write_text(json.dumps(want))
    return paths


def _measure(cmd: list[str], label: str) -> dict[str, Any]:
    return child_report(spawn_child(cmd, cwd=ROOT, env=base_env()), label)


def run(*, reps: int, log: Callable[[str], None], json_out: Path) -> int:
    log("reader limits: the costliest documents the default limits accept (issue 11: ~10 s, ~1 GB)")
    paths = inputs(log)
    rows, results = [], []
    for name, path in paths.items():
        ours = [_measure([MANIFEST, "validate", str(path)], name) for _ in range(reps)]
        for r in ours:
            if r["rc"] != 0:
                raise RunFailed(f"{name}: manifest validate exited {r['rc']}: {r['stdout_tail'][-400:]}")
        wall = sorted(r["wall_s"] for r in ours)[len(ours) // 2]
        rss = max(r["maxrss_kib"] for r in ours) / 1024
        peer = _measure([PY, "-c", RUAMEL, str(path)], name + " (ruamel)") if name.endswith(".yaml") and "one-line" not in name else None
        ratio = f"{peer['wall_s'] / wall:.2f}x" if peer else "-"
        within = "yes" if wall <= TARGET_S and rss <= TARGET_MIB else "NO"
        rows.append([name, f"{path.stat().st_size / MIB:.1f}", f"{wall:.2f}", f"{rss:.0f}", f"{peer['wall_s']:.2f}" if peer else "-", f"{peer['maxrss_kib'] / 1024:.0f}" if peer else "-", ratio, within])
        results.append({"case": name, "bytes": path.stat().st_size, "validate_wall_s": [r["wall_s"] for r in ours], "validate_peak_rss_mib": rss, "ruamel_load": peer})
    print(table(["case", "MiB", "validate s", "peak MiB", "ruamel load s", "ruamel MiB", "ruamel/ours", "within 10 s, 1 GB"], rows))
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps({"target_s": TARGET_S, "target_mib": TARGET_MIB, "results": results}, indent=1))
    log(f"figures in {json_out}")
    return 0 if all(r[-1] == "yes" for r in rows) else 1

"""The results table of a bundle: runs by differing params and metrics, replicates pooled, as
Markdown and LaTeX (booktabs)."""

from __future__ import annotations

import json
import math
import re
import statistics
from typing import Any

from ..core.reals import to_float

SEED_PARAM = re.compile(r"(?i)(^|[_.\-])(seed|random_state|random_seed|rng)($|[_.\-])")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if v is None:
        return "null"
    return str(v)


def is_reproduction(m: dict[str, Any]) -> bool:
    """Whether the manifest describes a re-run made to check another run (``manifest reproduce``):
    it repeats a measurement, it is no replicate of it."""
    return ((m.get("provenance") or {}).get("derived_from") or {}).get("relation") == "reproduced"


def results_table(docs: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    """Runs x (params that differ) x metrics; runs equal but for seed params are grouped.
    Reproductions are left out: a re-run of the same seed would count the same result twice."""
    docs = [m for m in docs if not is_reproduction(m)]
    all_params = sorted({k for m in docs for k in (m.get("params") or {})})
    differing = [k for k in all_params if len({json.dumps((m.get("params") or {}).get(k)) for m in docs}) > 1]
    seed_keys = [k for k in all_params if SEED_PARAM.search(k)]
    seed_cols = [k for k in differing if k in seed_keys]
    cols = [k for k in differing if k not in seed_keys]
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in docs:
        key = json.dumps([(m.get("params") or {}).get(k) for k in cols])
        groups.setdefault(key, []).append(m)
    rows = [_row(members, cols, seed_keys, metrics) for members in groups.values()]
    return {"param_columns": cols, "seed_params": seed_cols, "metrics": metrics, "rows": rows}


def _row(members: list[dict[str, Any]], cols: list[str], seed_keys: list[str], metrics: list[str]) -> dict[str, Any]:
    """One row: runs with the same params. Runs that differ in their seeds are replicates, pooled
    (mean ± sample sd, n = number of seeds); runs with the same seed as another are repeated
    measurements of one replicate: listed, never pooled as if they were independent."""
    by_seed: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        by_seed.setdefault(json.dumps([(m.get("params") or {}).get(k) for k in seed_keys]), []).append(m)
    replicates = [ms[0] for ms in by_seed.values()]
    repeated = len(members) - len(replicates)
    first = members[0]
    cells: dict[str, Any] = {k: _fmt((first.get("params") or {}).get(k, "—")) for k in cols}
    values: dict[str, str] = {}
    for name in metrics:
        xs = [x for x in (_value(m, name) for m in (replicates if len(replicates) > 1 else members)) if x is not None]
        if not xs:
            values[name] = "—"
        elif len(replicates) > 1:
            mean, sd = _mean_sd(xs)
            values[name] = f"{mean:.4g} ± {sd:.2g} (n={len(xs)})"
        else:
            values[name] = _fmt(xs[0]) if len(xs) == 1 else ", ".join(_fmt(x) for x in xs)
    extra = []
    if len(replicates) > 1:
        extra.append(f"+{len(replicates) - 1} replicate{'s' if len(replicates) > 2 else ''}")
    if repeated:
        extra.append(f"+{repeated} repeated measurement{'s' if repeated > 1 else ''}")
    row: dict[str, Any] = {"run": f"{first['name']} ({', '.join(extra)})" if extra else first["name"], "params": cells, "metrics": values, "n": len(replicates)}
    if repeated:
        row["repeated"] = repeated
    return row


def _value(m: dict[str, Any], name: str) -> float | None:
    metric = (m.get("metrics") or {}).get(name)
    if not metric:
        return None
    return to_float(metric["value"])


def render_markdown(table: dict[str, Any]) -> str:
    head = ["run", *table["param_columns"], *table["metrics"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in table["rows"]:
        cells = [r["run"], *(r["params"][k] for k in table["param_columns"]), *(r["metrics"][k] for k in table["metrics"])]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    note = ""
    if table["seed_params"]:
        note = f"\nRuns that differ only in {', '.join(table['seed_params'])} are replicates: mean ± sample standard deviation over n runs.\n"
    if any(r.get("repeated") for r in table["rows"]):
        note += "\nRuns with the same parameters and the same seed are repeated measurements of one replicate: counted once in n.\n"
    return "\n".join(lines) + "\n" + note


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    out = "".join(_TEX.get(c, c) for c in s)
    return out.replace("±", r"$\pm$")


def render_latex(table: dict[str, Any]) -> str:
    head = ["run", *table["param_columns"], *table["metrics"]]
    spec = "l" * (1 + len(table["param_columns"])) + "r" * len(table["metrics"])
    lines = [r"% requires \usepackage{booktabs}", r"\begin{tabular}{" + spec + "}", r"\toprule", " & ".join(_tex(h) for h in head) + r" \\", r"\midrule"]
    for r in table["rows"]:
        cells = [r["run"], *(r["params"][k] for k in table["param_columns"]), *(r["metrics"][k] for k in table["metrics"])]
        lines.append(" & ".join(_tex(c) for c in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _mean_sd(xs: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation; with a non-finite value the deviation is NaN (the
    ``statistics`` module raises on infinities and NaN)."""
    if not all(math.isfinite(x) for x in xs):
        return sum(xs) / len(xs), math.nan  # sum, not fsum: fsum raises on inf + -inf
    return statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0

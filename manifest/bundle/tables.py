"""The results table of a bundle: runs by differing params and metrics, replicates pooled, as
Markdown and LaTeX (booktabs).

Cells, and why they look the way they do:

- Runs that differ only in their seed params are *replicates* of one configuration and pooled:
  mean ± sample standard deviation, with ``n`` (the number of distinct seeds) in its own column and
  the 95% confidence interval of the mean in a ``<metric> 95% CI`` column. The interval is
  ``mean ± t · sd / √n`` with Student's t quantile for n − 1 degrees of freedom (:func:`t_critical`;
  scipy is no core dependency, so the quantile is computed here), and "—" when n < 2.
- Precision (:func:`decimals`): the standard deviation is shown to two significant digits, and the
  mean and the interval bounds of the same cell get as many decimals (none at the least), so a
  cell never claims more precision in its mean than its spread supports: ``0.967 ± 0.027``, not
  ``0.9667 ± 0.027``. A single value, or a spread of 0 or one too small for fixed decimals (below
  10^-10), falls back to four significant digits (``.4g``). Markdown and LaTeX share the strings.
- The n and CI columns appear only when some configuration has replicates; a table of single runs
  stays one value per cell. Where they appear, a single run shows ``value ± —``: no spread is known.
- Runs with the same seed as another are repeated measurements of one replicate: counted once in n
  (their values are listed when the configuration has a single seed); reproductions
  (:func:`is_reproduction`) are left out.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass
from typing import Any

from ..core.reals import to_float

SEED_PARAM = re.compile(r"(?i)(^|[_.\-])(seed|random_state|random_seed|rng)($|[_.\-])")
#: Confidence level of the intervals in the tables.
CONFIDENCE = 0.95
#: Significant digits of a standard deviation; of a value shown alone.
SD_DIGITS, VALUE_DIGITS = 2, 4
#: Most decimals of the fixed-point form; a smaller spread falls back to significant digits.
MAX_DECIMALS = 10
#: Degrees of freedom up to which the t quantile is found from the exact CDF; beyond, from the
#: Cornish-Fisher expansion around the normal quantile (error far below 1e-9 there).
EXACT_DF = 1000


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.{VALUE_DIGITS}g}"
    if v is None:
        return "null"
    return str(v)


def is_reproduction(m: dict[str, Any]) -> bool:
    """Whether the manifest describes a re-run made to check another run (``manifest reproduce``):
    it repeats a measurement, it is no replicate of it."""
    return ((m.get("provenance") or {}).get("derived_from") or {}).get("relation") == "reproduced"


# --------------------------------------------------------------------------- statistics


def _t_within(t: float, df: int) -> float:
    """P(|T| ≤ t) for Student's t with ``df`` (integer) degrees of freedom: the finite series of
    Abramowitz & Stegun 26.7.3/26.7.4 in θ = atan(t/√df). Every term is positive, so the sum
    loses no precision; it has df/2 terms."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    total = 0.0
    if df % 2:
        term = math.cos(theta)
        for j in range((df - 1) // 2):
            term = term * c2 * (2 * j) / (2 * j + 1) if j else term
            total += term
        return 2 / math.pi * (theta + s * total)
    term = 1.0
    for j in range(df // 2):
        term = term * c2 * (2 * j - 1) / (2 * j) if j else term
        total += term
    return s * total


def _t_expansion(df: int, confidence: float) -> float:
    """The t quantile from the normal one by the Cornish-Fisher expansion (A&S 26.7.5): for large
    df, where the exact series would be slow and this one is exact to far below display precision."""
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    g = [
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    ]
    return z + sum(gk / df ** (k + 1) for k, gk in enumerate(g))


def t_critical(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value of Student's t: P(|T| ≤ t) = ``confidence`` with ``df`` degrees
    of freedom (t_{0.975, df} for 95%). Bisection on the exact CDF, so no scipy is needed."""
    if df < 1 or not 0 < confidence < 1:
        raise ValueError(f"t_critical needs df ≥ 1 and 0 < confidence < 1, not df={df}, confidence={confidence}")
    if df > EXACT_DF:
        return _t_expansion(df, confidence)
    lo, hi = 0.0, 1.0
    while _t_within(hi, df) < confidence:
        lo, hi = hi, hi * 2
    while hi - lo > 1e-12 * hi:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_within(mid, df) < confidence else (lo, mid)
    return (lo + hi) / 2


@dataclass(frozen=True)
class Summary:
    """What a cell says about its values: n, mean, and (n ≥ 2) sample sd and confidence interval."""

    n: int
    mean: float
    sd: float | None = None
    ci: tuple[float, float] | None = None


def summarize(xs: list[float], confidence: float = CONFIDENCE) -> Summary:
    """n, mean, sample sd and the Student's t interval of the mean (none of the two when n < 2)."""
    mean, sd = _mean_sd(xs)
    if len(xs) < 2:
        return Summary(len(xs), mean)
    half = t_critical(len(xs) - 1, confidence) * sd / math.sqrt(len(xs))
    return Summary(len(xs), mean, sd, (mean - half, mean + half))


def _mean_sd(xs: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation; with a non-finite value the deviation is NaN (the
    ``statistics`` module raises on infinities and NaN)."""
    if not all(math.isfinite(x) for x in xs):
        return sum(xs) / len(xs), math.nan  # sum, not fsum: fsum raises on inf + -inf
    return statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0


# --------------------------------------------------------------------------- formatting


def decimals(sd: float) -> int | None:
    """Decimals that show ``sd`` to two significant digits (after rounding: 0.0996 is 0.10, two
    decimals); at least 0. None where no such rule applies: sd 0 or not finite, or below 10^-10."""
    if not math.isfinite(sd) or sd <= 0:
        return None
    exponent = int(f"{sd:.{SD_DIGITS - 1}e}".split("e")[1])
    d = SD_DIGITS - 1 - exponent
    return max(0, d) if d <= MAX_DECIMALS else None


def _fixed(x: float, d: int | None) -> str:
    """``x`` with ``d`` decimals (no "-0.00"), or four significant digits when ``d`` is None or
    ``x`` is not finite."""
    if d is None or not math.isfinite(x):
        return _fmt(float(x))
    s = f"{x:.{d}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def format_summary(s: Summary) -> tuple[str, str]:
    """The cell and the CI cell of a summary: ``("0.967 ± 0.027", "[0.924, 1.010]")``, the mean,
    sd and bounds at one precision (:func:`decimals`); ``("0.9667 ± —", "—")`` when n < 2."""
    if s.sd is None or s.ci is None:
        return f"{_fmt(float(s.mean))} ± —", "—"
    d = decimals(s.sd)
    sd = _fixed(s.sd, d) if d is not None else ("0" if s.sd == 0 else f"{s.sd:.{SD_DIGITS}g}")
    return f"{_fixed(s.mean, d)} ± {sd}", f"[{_fixed(s.ci[0], d)}, {_fixed(s.ci[1], d)}]"


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Config:
    """One configuration: runs equal but for their seed params. ``members`` are all of them,
    ``replicates`` the first run of each distinct seed (indexes into the documents given)."""

    params: dict[str, Any]
    members: list[int]
    replicates: list[int]


def configurations(docs: list[dict[str, Any]]) -> tuple[list[str], list[str], list[Config]]:
    """(params that differ, excluding seeds; seed params that differ; the configurations, in the
    order of their first run). Reproductions belong to none: a re-run of the same seed would count
    the same result twice. Shared by the table and the plots, so both pool the same runs."""
    kept = [i for i, m in enumerate(docs) if not is_reproduction(m)]
    params = {i: docs[i].get("params") or {} for i in kept}
    all_params = sorted({k for p in params.values() for k in p})
    differing = [k for k in all_params if len({json.dumps(p.get(k)) for p in params.values()}) > 1]
    seed_keys = [k for k in all_params if SEED_PARAM.search(k)]
    cols = [k for k in differing if k not in seed_keys]
    groups: dict[str, list[int]] = {}
    for i in kept:
        groups.setdefault(json.dumps([params[i].get(k) for k in cols]), []).append(i)
    configs = []
    for members in groups.values():
        by_seed: dict[str, int] = {}
        for i in members:
            by_seed.setdefault(json.dumps([params[i].get(k) for k in seed_keys]), i)
        configs.append(Config({k: params[members[0]].get(k, "—") for k in cols}, members, list(by_seed.values())))
    return cols, [k for k in differing if k in seed_keys], configs


def config_label(config: Config, docs: list[dict[str, Any]], n: int | None = None) -> str:
    """A legend or axis label: the differing params (``n_estimators=10``), or the first run's name
    when nothing differs, with ``(n=4)`` when ``n`` (by default the number of replicates; a plot
    passes the number it drew) is 2 or more."""
    label = ", ".join(f"{k}={_fmt(v)}" for k, v in config.params.items()) or docs[config.members[0]]["name"]
    n = len(config.replicates) if n is None else n
    return f"{label} (n={n})" if n > 1 else label


# --------------------------------------------------------------------------- the table


def results_table(docs: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    """Runs x (params that differ) x metrics; runs equal but for seed params are grouped.
    Reproductions are left out: a re-run of the same seed would count the same result twice."""
    cols, seed_cols, configs = configurations(docs)
    spread = any(len(c.replicates) > 1 for c in configs)
    rows = [_row(docs, c, metrics, spread) for c in configs]
    return {"param_columns": cols, "seed_params": seed_cols, "metrics": metrics, "replicated": spread, "rows": rows}


def _row(docs: list[dict[str, Any]], config: Config, metrics: list[str], spread: bool) -> dict[str, Any]:
    """One row: runs with the same params. Runs that differ in their seeds are replicates, pooled
    (:func:`_cells`, n = number of seeds); runs with the same seed as another are repeated
    measurements of one replicate: listed, never pooled as if they were independent."""
    replicates = [docs[i] for i in config.replicates]
    members = [docs[i] for i in config.members]
    repeated = len(members) - len(replicates)
    pool = replicates if len(replicates) > 1 else members
    values: dict[str, str] = {}
    cis: dict[str, str] = {}
    for name in metrics:
        xs = [x for x in (_value(m, name) for m in pool) if x is not None]
        values[name], cis[name] = _cells(xs, len(replicates), spread)
    extra = []
    if len(replicates) > 1:
        extra.append(f"+{len(replicates) - 1} replicate{'s' if len(replicates) > 2 else ''}")
    if repeated:
        extra.append(f"+{repeated} repeated measurement{'s' if repeated > 1 else ''}")
    first = members[0]
    row: dict[str, Any] = {"run": f"{first['name']} ({', '.join(extra)})" if extra else first["name"], "params": {k: _fmt(v) for k, v in config.params.items()}, "metrics": values, "n": len(replicates)}
    if spread:
        row["ci"] = cis
    if repeated:
        row["repeated"] = repeated
    return row


def _cells(xs: list[float], n: int, spread: bool) -> tuple[str, str]:
    """The metric cell and CI cell of a row with ``n`` replicates: pooled when n ≥ 2 (with its own
    ``(n=k)`` when only k of them have the metric); one value, or the repeated measurements of one
    seed listed, otherwise (``value ± —`` where the table shows spreads)."""
    if not xs:
        return "—", "—"
    if n > 1:
        value, ci = format_summary(summarize(xs))
        return (value if len(xs) == n else f"{value} (n={len(xs)})"), ci
    if len(xs) > 1:
        return ", ".join(_fmt(x) for x in xs), "—"
    return (format_summary(Summary(1, xs[0]))[0] if spread else _fmt(xs[0])), "—"


def _value(m: dict[str, Any], name: str) -> float | None:
    metric = (m.get("metrics") or {}).get(name)
    if not metric:
        return None
    return to_float(metric["value"])


def header_cells(table: dict[str, Any]) -> list[str]:
    """Column names: run, params, then n and each metric with its CI when there are replicates."""
    if not table.get("replicated"):
        return ["run", *table["param_columns"], *table["metrics"]]
    return ["run", *table["param_columns"], "n", *(c for k in table["metrics"] for c in (k, f"{k} {CONFIDENCE:.0%} CI"))]


def row_cells(table: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """A row's cells, in the order of :func:`header_cells`."""
    params = [r["params"][k] for k in table["param_columns"]]
    if not table.get("replicated"):
        return [r["run"], *params, *(r["metrics"][k] for k in table["metrics"])]
    return [r["run"], *params, str(r["n"]), *(c for k in table["metrics"] for c in (r["metrics"][k], r["ci"][k]))]


def explanation(table: dict[str, Any]) -> list[str]:
    """What the cells are, in plain text (Markdown note and, escaped, the LaTeX caption)."""
    notes = []
    if table["seed_params"]:
        notes.append(f"Runs that differ only in {', '.join(table['seed_params'])} are replicates: mean ± sample standard deviation over n runs.")
    if table.get("replicated"):
        notes.append(
            f"{CONFIDENCE:.0%} CI: confidence interval of the mean, Student's t with n − 1 degrees of freedom (— where n < 2). Decimals follow the standard deviation ({SD_DIGITS} significant digits); single values show {VALUE_DIGITS}."
        )
    if any(r.get("repeated") for r in table["rows"]):
        notes.append("Runs with the same parameters and the same seed are repeated measurements of one replicate: counted once in n.")
    return notes


def render_markdown(table: dict[str, Any]) -> str:
    """The table in Markdown, and below it what its cells are."""
    head = header_cells(table)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in table["rows"]:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row_cells(table, r)) + " |")
    return "\n".join(lines) + "\n" + "".join(f"\n{note}\n" for note in explanation(table))


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "—": "---",
    "−": "$-$",
}


def _tex(s: str) -> str:
    out = "".join(_TEX.get(c, c) for c in s)
    return out.replace("±", r"$\pm$")


def render_latex(table: dict[str, Any], label: str = "tab:results") -> str:
    """A floating ``table`` with booktabs rules, a caption saying what the cells are (the notes of
    the Markdown table) and ``label`` for ``\\ref``."""
    head = header_cells(table)
    spec = "l" * (1 + len(table["param_columns"])) + "r" * (len(head) - 1 - len(table["param_columns"]))
    caption = " ".join(["Results by run and metric.", *explanation(table)])
    lines = [
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[htbp]",
        r"\centering",
        r"\caption{" + _tex(caption) + "}",
        r"\label{" + label + "}",
        r"\begin{tabular}{" + spec + "}",
        r"\toprule",
        " & ".join(_tex(h) for h in head) + r" \\",
        r"\midrule",
    ]
    for r in table["rows"]:
        cells = [_tex(c) for c in row_cells(table, r)]
        cells[0] = "{}" + cells[0] if cells[0].startswith("[") else cells[0]  # else the \\ before it takes "[...]" for a length
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"

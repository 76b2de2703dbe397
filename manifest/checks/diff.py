"""Side-by-side comparison of two manifests: what differs in params, metrics, data, code, models.

Identity and provenance (``id``, ``provenance``, tracking-system ids of runs and models) are shown
but never count as differences: two manifests of the same run made in two places compare equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core.reals import same_real
from ..core.text import one_line


@dataclass
class Row:
    section: str
    field: str
    a: Any
    b: Any
    counts: bool = True  # False for identity/provenance rows

    @property
    def same(self) -> bool:
        if isinstance(self.a, bool) or isinstance(self.b, bool):  # True is not 1: they import as "True" and "1"
            return type(self.a) is type(self.b) and self.a == self.b
        if isinstance(self.a, (int, float, str)) and isinstance(self.b, (int, float, str)) and not isinstance(self.a, bool) and not isinstance(self.b, bool):
            try:
                return same_real(self.a, self.b)
            except (KeyError, ValueError, TypeError):
                pass
        return bool(self.a == self.b)


def _digest(d: dict[str, Any] | None) -> str | None:
    if not d:
        return None
    alg = "sha256" if "sha256" in d else sorted(d)[0]
    return f"{alg}:{d[alg][:12]}…"


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """The rows of the side-by-side table, section by section."""
    rows: list[Row] = []
    for section in _SECTIONS:
        rows.extend(section(a, b))
    return rows


def _identity(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    sa, sb = (a.get("provenance", {}).get("source") or {}), (b.get("provenance", {}).get("source") or {})
    return [
        Row("identity", "id", a.get("id"), b.get("id"), False),
        Row("identity", "source run", sa.get("run_id"), sb.get("run_id"), False),
        Row("identity", "experiment", sa.get("experiment_name"), sb.get("experiment_name"), False),
    ]


def _run(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    return [Row("run", "name", a.get("name"), b.get("name"))] + [Row("run", k, a["run"].get(k), b["run"].get(k)) for k in ("status", "start_time", "end_time", "user")]


def _params(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    pa, pb = a.get("params") or {}, b.get("params") or {}
    return [Row("params", k, pa.get(k, "—"), pb.get(k, "—")) for k in sorted(set(pa) | set(pb))]


def _metrics(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    rows = []
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    for k in sorted(set(ma) | set(mb)):
        rows.append(Row("metrics", k, ma[k]["value"] if k in ma else "—", mb[k]["value"] if k in mb else "—"))
        pts_a, pts_b = _points(ma.get(k)), _points(mb.get(k))
        if pts_a != pts_b:
            rows.append(Row("metrics", f"{k} (history points)", pts_a, pts_b))
    return rows


def _data(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    da = {d["name"]: d for d in a.get("data") or []}
    db = {d["name"]: d for d in b.get("data") or []}

    def cell(side: dict[str, Any], k: str) -> str:
        return _digest((side.get(k) or {}).get("digest")) or ("—" if k not in side else "(no digest)")

    return [Row("data", k, cell(da, k), cell(db, k)) for k in sorted(set(da) | set(db))]


def _code(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ca, cb = a.get("code") or {}, b.get("code") or {}
    return [Row("code", k, ca.get(k), cb.get(k)) for k in ("repository", "commit", "branch", "dirty", "entry_point") if k in ca or k in cb]


def _environment(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ea, eb = a.get("environment") or {}, b.get("environment") or {}
    rows = [Row("environment", "python", (ea.get("python") or {}).get("version"), (eb.get("python") or {}).get("version"))]
    ka, kb = ea.get("packages") or {}, eb.get("packages") or {}
    rows += [Row("environment", k, ka[k], kb[k]) for k in sorted(set(ka) & set(kb)) if ka[k] != kb[k]]
    only_a, only_b = sorted(set(ka) - set(kb)), sorted(set(kb) - set(ka))
    if only_a or only_b:
        rows.append(Row("environment", "packages on one side only", _names(only_a), _names(only_b)))
    if ka or kb:
        rows.append(Row("environment", "packages in common, same version", sum(1 for k in ka if kb.get(k) == ka[k]), sum(1 for k in kb if ka.get(k) == kb[k]), False))
    return rows


def _models(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    rows = []
    mods_a = {m["name"]: m for m in a.get("models") or []}
    mods_b = {m["name"]: m for m in b.get("models") or []}
    for k in sorted(set(mods_a) | set(mods_b)):
        ma, mb = mods_a.get(k) or {}, mods_b.get(k) or {}
        rows.append(Row("models", f"{k} id", ma.get("id"), mb.get("id"), False))
        fa, fb = _model_files(ma), _model_files(mb)
        rows.append(Row("models", f"{k} files (MLmodel aside)", len(fa) if fa == fb else json.dumps(fa), len(fb) if fa == fb else json.dumps(fb)))
        ra, rb = _registry(ma), _registry(mb)
        if ra or rb:
            rows.append(Row("models", f"{k} registry", ", ".join(ra) or "—", ", ".join(rb) or "—", False))
    return rows


def _model_files(m: dict[str, Any]) -> dict[str, str | None]:
    return {f["path"]: _digest(f["digest"]) for f in m.get("files") or [] if f["path"] != "MLmodel"}


def _registry(m: dict[str, Any]) -> list[str]:
    return [f"{r['name']} v{r['version']}" + "".join(f" @{x}" for x in r.get("aliases", [])) for r in m.get("registered") or []]


def _tags(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ta, tb = a.get("tags") or {}, b.get("tags") or {}
    return [Row("tags", k, ta.get(k, "—"), tb.get(k, "—")) for k in sorted(set(ta) | set(tb))]


#: The sections of the table, in order.
_SECTIONS = (_identity, _run, _params, _metrics, _data, _code, _environment, _models, _tags)


def _names(names: list[str]) -> str:
    if not names:
        return "—"
    shown = ", ".join(names[:4])
    return f"{len(names)}: {shown}{', …' if len(names) > 4 else ''}"


def _points(metric: dict[str, Any] | None) -> int | None:
    if not metric:
        return None
    if "history" in metric:
        return len(metric["history"]["step"])
    if "history_file" in metric:
        return int(metric["history_file"]["points"])
    return 1


def differences(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.counts and not r.same]


def _cell(v: Any, width: int) -> str:
    text = one_line(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(rows: list[Row], names: tuple[str, str], *, only_differences: bool = False) -> str:
    shown = [r for r in rows if not only_differences or (r.counts and not r.same)]
    w = 36
    lines = [f"{'':12} {'':34} {_cell(names[0], w):<{w}} {_cell(names[1], w):<{w}}"]
    section = None
    for r in shown:
        mark = "  " if r.same else ("≠ " if r.counts else "~ ")
        head = r.section if r.section != section else ""
        section = r.section
        lines.append(f"{head:<12} {mark}{_cell(r.field, 32):<32} {_cell(r.a, w):<{w}} {_cell(r.b, w):<{w}}")
    diff = differences(rows)
    lines.append(f"{len(diff)} difference{'s' if len(diff) != 1 else ''} (≠); identity and provenance (~) do not count")
    return "\n".join(lines) + "\n"


def render_json(rows: list[Row]) -> str:
    return json.dumps({"same": not differences(rows), "rows": [{"section": r.section, "field": r.field, "a": r.a, "b": r.b, "same": r.same, "counts": r.counts} for r in rows]}, indent=2, ensure_ascii=False) + "\n"

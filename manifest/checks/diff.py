"""Side-by-side comparison of two manifests: what differs in params, metrics, data, code, models.

Some fields differ between a run and its reproduction, or between two exports of one run, whatever
the run did: they are *volatile*. They say where and when the run was logged and the manifest
written, and are assigned by the tracking system or this tool, not by the code that ran:

* the manifest's ``id``, ``provenance.created_at`` and ``provenance.derived_from`` (set on an
  imported or reproduced run only);
* ``provenance.source.run_id`` and ``experiment_name`` (``import --experiment`` and
  ``reproduce --experiment`` put the run elsewhere), ``run.parent.run_id``;
* ``name``: a reproduction is logged as ``reproduce <name>`` (``tracking.reproduce``);
* ``run.start_time`` and ``run.end_time``;
* each model's ``id``, ``uri`` and ``created_at``, and its registry versions (a reproduced model is
  not registered; registering it again gives a new version).

By default volatile rows are left out of the table and never count, so that a faithful
reproduction compares equal; with ``all_fields`` they are shown and count like any other row.
Metric histories are compared by their number of points, so the ``timestamp`` of a point (and of a
metric) is never compared.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from ..core.reals import same_real
from ..core.text import one_line, shorten


@dataclass
class Row:
    """One field of the two manifests side by side."""

    section: str
    field: str
    a: Any
    b: Any
    volatile: bool = False  # differs from run to run (ids, times): hidden and not counted by default

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
    pa, pb = a.get("provenance") or {}, b.get("provenance") or {}
    sa, sb = pa.get("source") or {}, pb.get("source") or {}
    rows = [Row("identity", "id", a.get("id"), b.get("id"), volatile=True), Row("identity", "created", pa.get("created_at"), pb.get("created_at"), volatile=True)]
    if pa.get("derived_from") or pb.get("derived_from"):
        rows.append(Row("identity", "derived from", _derived(pa), _derived(pb), volatile=True))
    return rows + [
        Row("identity", "source run", sa.get("run_id"), sb.get("run_id"), volatile=True),
        Row("identity", "experiment", sa.get("experiment_name"), sb.get("experiment_name"), volatile=True),
    ]


def _derived(provenance: dict[str, Any]) -> str | None:
    """``derived_from`` in a few words: how (imported, reproduced) and from which manifest."""
    d = provenance.get("derived_from")
    return f"{d.get('relation', 'derived')} from {d.get('id')}" if d else None


def _run(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    ra, rb = a.get("run") or {}, b.get("run") or {}
    rows = [Row("run", "name", a.get("name"), b.get("name"), volatile=True)]
    rows += [Row("run", k, ra.get(k), rb.get(k), volatile=k.endswith("_time")) for k in ("status", "start_time", "end_time", "user")]
    if ra.get("parent") or rb.get("parent"):
        rows.append(Row("run", "parent run", (ra.get("parent") or {}).get("run_id"), (rb.get("parent") or {}).get("run_id"), volatile=True))
    return rows


def _params(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    pa, pb = a.get("params") or {}, b.get("params") or {}
    return [Row("params", k, pa.get(k, "—"), pb.get(k, "—")) for k in sorted(set(pa) | set(pb))]


def _metrics(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """Final values, and the number of history points when it differs (never their timestamps)."""
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
        rows.append(Row("environment", "packages in common, same version", sum(1 for k in ka if kb.get(k) == ka[k]), sum(1 for k in kb if ka.get(k) == kb[k])))
    return rows


def _models(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """Per model: its files (which count) and what the tracking system assigned it (which is volatile)."""
    rows = []
    mods_a = {m["name"]: m for m in a.get("models") or []}
    mods_b = {m["name"]: m for m in b.get("models") or []}
    for k in sorted(set(mods_a) | set(mods_b)):
        ma, mb = mods_a.get(k) or {}, mods_b.get(k) or {}
        rows.append(Row("models", f"{k} id", ma.get("id"), mb.get("id"), volatile=True))
        rows += [Row("models", f"{k} {label}", ma.get(key), mb.get(key), volatile=True) for key, label in (("uri", "uri"), ("created_at", "created")) if key in ma or key in mb]
        fa, fb = _model_files(ma), _model_files(mb)
        rows.append(Row("models", f"{k} files (MLmodel aside)", len(fa) if fa == fb else json.dumps(fa), len(fb) if fa == fb else json.dumps(fb)))
        ra, rb = _registry(ma), _registry(mb)
        if ra or rb:
            rows.append(Row("models", f"{k} registry", ", ".join(ra) or "—", ", ".join(rb) or "—", volatile=True))
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


def differences(rows: list[Row], *, all_fields: bool = False) -> list[Row]:
    """The rows that differ and count: volatile ones only with ``all_fields``."""
    return [r for r in rows if not r.same and (all_fields or not r.volatile)]


#: Narrowest table drawn: below it, lines are this wide (and the terminal wraps them).
MIN_WIDTH = 50
#: Room each value column keeps before the field column takes more for long names.
_MIN_VALUE = 10
#: What a text line says of the volatile fields.
_VOLATILE = "fields that change from run to run (ids, times)"


def _text(v: Any) -> str:
    """A value as one line of text: strings as they are, anything else as JSON."""
    return one_line(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))


def _middle(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters, for file names (whose ends say most)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def _columns(table: list[tuple[str, str, str, str]], width: int | None) -> tuple[int, int, int, int]:
    """Widths of the section, field, a and b columns, for lines of at most ``width`` characters
    (``None``: no limit). Each column is as wide as its longest cell when that fits. Otherwise the
    field column keeps names whole while a and b keep :data:`_MIN_VALUE` each, since a field is
    what names a row; a and b share what is left, the shorter one giving the other its spare room."""
    s, f, na, nb = (max(len(row[i]) for row in table) for i in range(4))
    if width is None:
        return s, f, na, nb
    room = max(width, MIN_WIDTH) - s - 5  # a space after the section and after the field, the mark, a space between a and b
    f = min(f, room - min(na + nb, 2 * _MIN_VALUE))
    room -= f
    va = min(na, max(room // 2, room - nb))
    return s, f, va, min(nb, room - va)


def _footer(rows: list[Row], all_fields: bool) -> str:
    """How many rows differ, and what the table leaves out."""
    n = len(differences(rows, all_fields=all_fields))
    head = f"{n} difference{'s' if n != 1 else ''} (≠)"
    if all_fields:
        return f"{head}, {_VOLATILE} included"
    volatile = [r for r in rows if r.volatile]
    changed = sum(1 for r in volatile if not r.same)
    return f"{head}; {len(volatile)} {_VOLATILE} not shown, {changed} of them differ; --all-fields shows and counts them"


def render_text(rows: list[Row], names: tuple[str, str], *, width: int | None = None, all_fields: bool = False, only_differences: bool = False) -> str:
    """The table, one line per row and no line wider than ``width`` (``None``: as wide as the
    values): long values are cut with an ellipsis, never wrapped, so that a row stays one line.
    Volatile rows appear only with ``all_fields``."""
    shown = differences(rows, all_fields=all_fields) if only_differences else [r for r in rows if all_fields or not r.volatile]
    table = [("", "", one_line(names[0]), one_line(names[1]))] + [(r.section, one_line(r.field), _text(r.a), _text(r.b)) for r in shown]
    s, f, va, vb = _columns(table, width)
    lines = [f"{'':{s}}   {'':{f}} {_middle(table[0][2], va):<{va}} {_middle(table[0][3], vb)}".rstrip()]
    section = None
    for r, (_, field, a, b) in zip(shown, table[1:]):
        mark = "  " if r.same else "≠ "
        head = r.section if r.section != section else ""
        section = r.section
        lines.append(f"{head:<{s}} {mark}{shorten(field, f):<{f}} {shorten(a, va):<{va}} {shorten(b, vb)}".rstrip())
    footer = _footer(rows, all_fields)
    lines += [footer] if width is None else textwrap.wrap(footer, max(width, MIN_WIDTH), break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def render_json(rows: list[Row], *, all_fields: bool = False) -> str:
    """Every row, volatile ones too (flagged), and the verdict ``same`` as the exit status gives it.
    ``counts`` says whether the row takes part in that verdict."""
    doc = {
        "same": not differences(rows, all_fields=all_fields),
        "all_fields": all_fields,
        "rows": [{"section": r.section, "field": r.field, "a": r.a, "b": r.b, "same": r.same, "counts": all_fields or not r.volatile, "volatile": r.volatile} for r in rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

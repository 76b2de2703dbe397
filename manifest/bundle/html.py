"""``index.html`` of a bundle: one self-contained page for reviewers, readable offline and safe to open.

Why it looks the way it does:

- Self-contained: the plots are ``data:`` URIs and the style is inline, so the page shows the same
  from a zip, a mail attachment or a conference portal, and a Content-Security-Policy meta tag
  (:data:`CSP`) forbids every fetch a browser might otherwise make. No JavaScript: ``<details>``
  folds the runs.
- Everything that comes from a manifest or the index is untrusted: it only ever appears as
  escaped text (:func:`esc`), never as a URL, an attribute name or CSS. Attribute values are
  constants, generated anchors (``run-3``) or base64; the repository URL is shown, not linked.
- The results table shows the strings of ``results.md`` (``results_table``'s cells), so the page,
  the Markdown and the LaTeX tables never disagree.
- Deterministic: no clock, no random ids; the same inputs give the same bytes, so ``SHA256SUMS``
  of a re-written bundle does not change.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shlex
from typing import Any, Callable, Iterable

from ..core.names import safe_name
from .layout import SUMS
from .plots import BAND, ERROR_BARS, SCALARS
from .tables import explanation, header_cells, row_cells

#: Nothing but the page itself, its inline style and its ``data:`` images.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: Stands for a run's bundle-relative manifest path in a command line; lines without it are about
#: the whole bundle and shown once, lines with it are shown in each run.
MANIFEST = "{manifest}"
DEFAULT_COMMANDS: dict[str, list[str]] = {
    "Verify": [
        f"sha256sum -c {SUMS}",
        "manifest validate .",
        "manifest verify . --signature --key KEY.pub",
        f"manifest verify {MANIFEST} --repo CHECKOUT",
    ],
    "Reproduce": [f"manifest reproduce {MANIFEST}"],
}
#: Runs shown unfolded when there are at most this many; more are folded to their summary line.
OPEN_RUNS = 3
#: Packages named first in a run's environment: those that decide what an ML result is.
KEY_PACKAGES = (
    "python", "numpy", "scipy", "pandas", "polars", "scikit-learn", "torch", "torchvision", "tensorflow", "keras", "jax", "jaxlib",
    "xgboost", "lightgbm", "catboost", "transformers", "datasets", "tokenizers", "accelerate", "statsmodels", "mlflow",
)  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n"
MONO = ' class="mono"'
_STATUS_CLASS = {"FINISHED": "ok", "FAILED": "bad", "KILLED": "bad"}
#: Characters that are no text: C0 controls but tab and newline, DEL, and lone surrogates (which
#: would not even encode as UTF-8).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

STYLE = """
:root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --rule: #d0d0d0; --band: #f5f6f8; --ok: #17612b; --bad: #a11919; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: var(--fg); background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; display: inline; margin: 0; } h4 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; overflow-wrap: anywhere; }
pre { background: var(--band); border: 1px solid var(--rule); padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .7rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--fg); } tbody th { font-weight: 500; }
td.num { text-align: right; white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; } dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.muted, .note, figcaption { color: var(--muted); } .note { font-size: .92rem; }
figure { margin: 1rem 0 1.5rem; } figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
details { border: 1px solid var(--rule); border-radius: 4px; padding: .4rem 1rem; margin: .8rem 0; }
summary { cursor: pointer; padding: .2rem 0; } details[open] > summary { border-bottom: 1px solid var(--rule); margin-bottom: .4rem; }
.status { font-size: .85rem; padding: 0 .4rem; border: 1px solid currentColor; border-radius: 3px; margin-left: .5rem; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .other { color: var(--muted); }
nav ol { columns: 2; } a { color: #0b4f9c; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; } nav { display: none; } a { color: inherit; text-decoration: none; }
  details { border: none; padding: 0; } details::details-content { content-visibility: visible; display: block; }
  figure, table, pre { break-inside: avoid; } h2 { break-after: avoid; }
}
"""


# --------------------------------------------------------------------------- text


def esc(v: Any) -> str:
    """Any value as escaped HTML text: ``str`` of it, without control characters, ``&<>"'`` escaped."""
    return html.escape(_NOT_TEXT.sub("\ufffd", v if isinstance(v, str) else str(v)), quote=True)


def typed(v: Any) -> str:
    """A value as JSON writes it, so its type shows: ``"gini"``, ``100``, ``0.2``, ``true``, ``null``."""
    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def plain(v: Any) -> str:
    """A value for a cell: strings as they are, "—" for none, anything else as JSON."""
    if v is None or v == "":
        return "—"
    return v if isinstance(v, str) else typed(v)


def digest_text(d: Any) -> str:
    """``{"sha256": "ab…"}`` as ``sha256:ab…`` (the form ``sha256sum`` users compare), several
    algorithms separated by spaces."""
    if not isinstance(d, dict) or not d:
        return plain(d)
    return " ".join(f"{k}:{plain(v)}" for k, v in d.items())


def size_text(v: Any) -> str:
    """Exact bytes, as recorded: a reviewer compares them with ``ls -l``, not a rounded "1.8 MB"."""
    return f"{v} bytes" if isinstance(v, int) and not isinstance(v, bool) else plain(v)


def command_text(cmd: Any) -> str:
    """An argument list as one shell line, quoted where it must be; a string as it is."""
    if isinstance(cmd, list):
        return shlex.join(str(a) for a in cmd)
    return plain(cmd)


def _dict(v: Any) -> dict[str, Any]:
    """A manifest section that should be an object; anything else counts as absent."""
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


# --------------------------------------------------------------------------- building blocks


def table_html(head: list[str], rows: Iterable[list[str]], *, caption: str | None = None, labelledby: str | None = None, num: Iterable[int] = (), mono: Iterable[int] = ()) -> str:
    """A table of plain-text cells (escaped here): column headers and each row's first cell as
    ``<th scope>``; named by a caption or by the (generated) id of its heading; ``num`` columns
    right-aligned, ``mono`` cells in a monospace font."""
    num, mono = set(num), set(mono)

    def cls(j: int, body: bool = True) -> str:
        names = [n for n, on in (("num", j in num), ("mono", body and j in mono)) if on]
        return f' class="{" ".join(names)}"' if names else ""

    out = [f'<table aria-labelledby="{esc(labelledby)}">' if labelledby else "<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col"{cls(j, False)}>{esc(h)}</th>' for j, h in enumerate(head)) + "</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        cells = [f'<th scope="row"{cls(0)}>{esc(r[0])}</th>', *(f"<td{cls(j)}>{esc(c)}</td>" for j, c in enumerate(r[1:], 1))]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def dl_html(pairs: Iterable[tuple[str, Any]], mono: Iterable[str] = ()) -> str:
    """A definition list of the pairs whose value is given; ``mono`` terms in a monospace font."""
    mono = set(mono)
    items = [f"<dt>{esc(k)}</dt><dd{MONO if k in mono else ''}>{esc(v)}</dd>" for k, v in pairs if v not in (None, "")]
    return "<dl>\n" + "\n".join(items) + "\n</dl>" if items else '<p class="muted">None recorded.</p>'


def pre_html(lines: Iterable[str]) -> str:
    return "<pre><code>" + "\n".join(esc(line) for line in lines) + "</code></pre>"


# --------------------------------------------------------------------------- page sections


def _head(title: str) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{esc(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
    ])


def _title(index: dict[str, Any]) -> str:
    return f"Supplementary material: {plain(index.get('experiment') or 'ML runs')}"


def _intro(index: dict[str, Any], runs: list[tuple[str, dict[str, Any]]]) -> str:
    """What this is, when and by what it was made."""
    by = _dict(index.get("created_by"))
    made_by = " ".join(plain(by[k]) for k in ("name", "version") if by.get(k) not in (None, "")) or None
    pairs = [
        ("Experiment", index.get("experiment")),
        ("Filter", index.get("filter")),
        ("Runs", str(len(runs))),
        ("Made", index.get("created_at")),
        ("Made by", made_by),
    ]
    return "\n".join([
        "<header>",
        f"<h1>{esc(_title(index))}</h1>",
        '<p class="muted">Machine-learning runs described as experiment manifests: data digests, code commit, environment, typed parameters, metrics and models of each run.</p>',
        dl_html(pairs),
        "</header>",
    ])


def _nav(runs: list[tuple[str, dict[str, Any]]], plots: dict[str, bytes]) -> str:
    """Contents; anchors are generated (``run-1``...), never taken from a manifest."""
    parts = [("results", "Results"), *([("plots", "Plots")] if plots else []), ("runs", "Runs"), ("check", "Check and reproduce"), ("files", "Files")]
    items = [f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in parts]
    run_items = [f'<li><a href="#run-{i}">{esc(plain(m.get("name")))}</a></li>' for i, (_, m) in enumerate(runs, 1)]
    return '<nav aria-label="Contents">\n<ol>\n' + "\n".join(items) + "\n</ol>\n" + ("<ol>\n" + "\n".join(run_items) + "\n</ol>\n" if run_items else "") + "</nav>"


#: The table's pieces, shared with ``results.md`` and ``results.tex`` so the page shows the same strings.
results_header, results_cells, results_notes = header_cells, row_cells, explanation


def _results(table: dict[str, Any]) -> str:
    head = results_header(table)
    first_metric = 1 + len(table["param_columns"])
    body = (
        table_html(head, (results_cells(table, r) for r in table["rows"]), caption="Results by run and metric", num=range(first_metric, len(head)))
        if table["rows"]
        else '<p class="muted">No runs to tabulate.</p>'
    )
    notes = "\n".join(f'<p class="note">{esc(n)}</p>' for n in results_notes(table))
    return f'<section id="results">\n<h2>Results</h2>\n{body}\n{notes}\n</section>'


def plot_description(file_name: str, metrics: list[str]) -> tuple[str, str]:
    """(alt text, caption) of a plot from its file name: a metric's history, or the final values."""
    stem = file_name.removesuffix(".png")
    if stem == SCALARS or re.fullmatch(rf"{SCALARS}-\d+", stem):
        return "Final value of each metric by configuration", f"Final values by configuration ({ERROR_BARS}). File plots/{file_name}."
    name = next((m for m in metrics if safe_name(m) == stem), stem)
    return f"{name} by step, one line per configuration", f"{name} by step; replicates as their mean ({BAND}). File plots/{file_name}."


def _plots(plots: dict[str, bytes], metrics: list[str]) -> str:
    if not plots:
        return ""
    figures = []
    for name, data in plots.items():
        if not data.startswith(PNG):
            raise ValueError(f"plot {name!r} is not a PNG file; the page embeds plots as image/png and its policy loads nothing else")
        alt, caption = plot_description(name, metrics)
        src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        figures.append(f'<figure>\n<img src="{src}" alt="{esc(alt)}">\n<figcaption>{esc(caption)}</figcaption>\n</figure>')
    return '<section id="plots">\n<h2>Plots</h2>\n' + "\n".join(figures) + "\n</section>"


def _check(commands: dict[str, list[str]], default: bool) -> str:
    """The commands about the whole bundle (those without :data:`MANIFEST`), once."""
    blocks = []
    for title, lines in commands.items():
        bundle_lines = [line for line in lines if MANIFEST not in line]
        if bundle_lines:
            blocks.append(f"<h3>{esc(title)}</h3>\n{pre_html(bundle_lines)}")
    intro = "Run these in this directory; each run below lists the commands for its own manifest."
    if default:
        intro += " CHECKOUT stands for a clone of the run's repository at its commit (see its Code); KEY.pub for the public key the authors published."
    return f'<section id="check">\n<h2>Check and reproduce</h2>\n<p>{esc(intro)}</p>\n' + "\n".join(blocks) + "\n</section>"


def _files(index: dict[str, Any]) -> str:
    """The manifests of ``index.json`` with the digests a reviewer can compare."""
    rows = [[plain(e.get("path")), plain(e.get("name")), plain(e.get("id")), plain(e.get("sha256"))] for e in (_dict(x) for x in _list(index.get("manifests")))]
    body = table_html(["file", "name", "id", "sha256"], rows, caption="Manifests (index.json)", mono=(0, 2, 3)) if rows else '<p class="muted">No manifests listed.</p>'
    return f'<section id="files">\n<h2>Files</h2>\n{body}\n<p class="note">{esc(f"{SUMS} lists the SHA-256 of every file of this directory.")}</p>\n</section>'


def _cite(index: dict[str, Any]) -> str:
    seen = {typed(c): c for c in _list(index.get("citations")) if isinstance(c, dict)}
    texts = sorted({plain(c.get("text") or c.get("title") or c.get("doi") or c.get("url")) for c in seen.values()})
    if not texts:
        return ""
    return '<section id="cite">\n<h2>Cite</h2>\n<ul>\n' + "\n".join(f"<li>{esc(t)}</li>" for t in texts) + "\n</ul>\n</section>"


# --------------------------------------------------------------------------- one run


def _overview(path: str, m: dict[str, Any], entry: dict[str, Any]) -> str:
    run, prov = _dict(m.get("run")), _dict(m.get("provenance"))
    src = _dict(prov.get("source"))
    source = " ".join(plain(src[k]) for k in ("system", "system_version") if src.get(k)) + (f", run {plain(src['run_id'])}" if src.get("run_id") else "")
    pairs = [
        ("Name", plain(m.get("name"))),
        ("Id", plain(m.get("id"))),
        ("Status", plain(run.get("status"))),
        ("Start", run.get("start_time")),
        ("End", run.get("end_time")),
        ("User", run.get("user")),
        ("Description", m.get("description")),
        ("Source", source.strip(", ") or None),
        ("Manifest", path),
        ("sha256", entry.get("sha256")),
    ]
    return dl_html(((k, None if v is None else plain(v)) for k, v in pairs), mono=("Id", "Manifest", "sha256"))


def _params(m: dict[str, Any], label: str) -> str:
    params = _dict(m.get("params"))
    if not params:
        return '<p class="muted">None recorded.</p>'
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null", list: "array", dict: "object"}
    rows = [[k, typed(v), kinds.get(type(v), type(v).__name__)] for k, v in params.items()]
    return table_html(["param", "value", "type"], rows, labelledby=label, mono=(1,))


def _data(m: dict[str, Any], label: str) -> str:
    rows = [[plain(d.get("name")), plain(d.get("role")), plain(d.get("uri")), size_text(d.get("size")), digest_text(d.get("digest"))] for d in map(_dict, _list(m.get("data")))]
    if not rows:
        return '<p class="muted">None recorded.</p>'
    return table_html(["name", "role", "uri", "size", "digest"], rows, labelledby=label, num=(3,), mono=(2, 4))


def _code(m: dict[str, Any], label: str) -> str:
    code = _dict(m.get("code"))
    dirty = code.get("dirty")
    pairs = [
        ("Repository", code.get("repository")),
        ("Commit", code.get("commit")),
        ("Branch", code.get("branch")),
        ("Dirty", None if dirty is None else typed(dirty)),
        ("Working directory", code.get("working_directory")),
        ("Entry point", code.get("entry_point")),
        ("Command", None if code.get("command") is None else command_text(code.get("command"))),
    ]
    return dl_html(((k, None if v is None else plain(v)) for k, v in pairs), mono=("Repository", "Commit", "Command"))


def _packages(packages: dict[str, Any], label: str) -> str:
    """Key packages (:data:`KEY_PACKAGES`) in a table; all of them folded below it."""
    if not packages:
        return ""
    ordered = sorted(packages, key=lambda k: (k.lower(), k))
    key = [k for k in ordered if k.lower() in KEY_PACKAGES]
    out = [table_html(["package", "version"], ([k, plain(packages[k])] for k in key), caption="Key packages", mono=(1,))] if key else []
    everything = table_html(["package", "version"], ([k, plain(packages[k])] for k in ordered), labelledby=f"{label}-all", mono=(1,))
    out.append(f'<details>\n<summary id="{esc(label)}-all">All {len(ordered)} packages</summary>\n{everything}\n</details>')
    return "\n".join(out)


def _environment(m: dict[str, Any], label: str) -> str:
    env = _dict(m.get("environment"))
    py, pf = _dict(env.get("python")), _dict(env.get("platform"))
    python = " ".join(plain(py[k]) for k in ("implementation", "version") if py.get(k) not in (None, "")) or None
    platform = " ".join(plain(pf[k]) for k in ("os", "os_release", "architecture") if pf.get(k) not in (None, "")) or None
    return dl_html([("Python", python), ("Platform", platform)]) + "\n" + _packages(_dict(env.get("packages")), label)


def _metrics(m: dict[str, Any], label: str) -> str:
    metrics = {k: _dict(v) for k, v in _dict(m.get("metrics")).items()}
    if not metrics:
        return '<p class="muted">None recorded.</p>'
    spread = any("std" in v or "repetitions" in v for v in metrics.values())
    head = ["metric", "value", "step", "direction", *(["std", "repetitions"] if spread else [])]
    rows = []
    for k, v in metrics.items():
        row = [k, plain(v.get("value")), plain(v.get("step")), plain(v.get("direction"))]
        rows.append(row + ([plain(v.get("std")), plain(v.get("repetitions"))] if spread else []))
    return table_html(head, rows, labelledby=label, num=[1, 2, *([4, 5] if spread else [])])


def _models(m: dict[str, Any], label: str) -> str:
    rows = [[plain(x.get("name")), plain(x.get("id")), size_text(x.get("size")), digest_text(x.get("digest"))] for x in map(_dict, _list(m.get("models")))]
    if not rows:
        return '<p class="muted">None recorded.</p>'
    return table_html(["model", "id", "size", "digest"], rows, labelledby=label, num=(2,), mono=(1, 3))


def _run_commands(path: str, commands: dict[str, list[str]]) -> str:
    """The commands with :data:`MANIFEST`, for this run's manifest (shell-quoted)."""
    blocks = []
    for title, lines in commands.items():
        mine = [line.replace(MANIFEST, shlex.quote(path)) for line in lines if MANIFEST in line]
        if mine:
            blocks.append(f"<h4>{esc(title)}</h4>\n{pre_html(mine)}")
    return "\n".join(blocks)


#: A run's sections: (anchor, heading, renderer given the manifest and its heading's id).
_SECTIONS: list[tuple[str, str, Callable[[dict[str, Any], str], str]]] = [
    ("params", "Parameters (values as typed in the manifest)", _params),
    ("data", "Data inputs", _data),
    ("code", "Code", _code),
    ("environment", "Environment", _environment),
    ("metrics", "Metrics (final values)", _metrics),
    ("models", "Models", _models),
]


def _run(i: int, path: str, m: dict[str, Any], entry: dict[str, Any], commands: dict[str, list[str]], unfold: bool) -> str:
    status = plain(_dict(m.get("run")).get("status"))
    summary = f'<summary><h3>{esc(plain(m.get("name")))}</h3> <span class="status {_STATUS_CLASS.get(status, "other")}">{esc(status)}</span></summary>'
    body = [_overview(path, m, entry)]
    for key, title, section in _SECTIONS:
        label = f"run-{i}-{key}"
        body.append(f'<h4 id="{label}">{esc(title)}</h4>\n{section(m, label)}')
    cmds = _run_commands(path, commands)
    if cmds:
        body.append(cmds)
    return f'<details id="run-{i}"{" open" if unfold else ""}>\n{summary}\n' + "\n".join(body) + "\n</details>"


def _runs(index: dict[str, Any], runs: list[tuple[str, dict[str, Any]]], commands: dict[str, list[str]]) -> str:
    entries = {e.get("path"): e for e in map(_dict, _list(index.get("manifests")))}
    unfold = len(runs) <= OPEN_RUNS
    items = [_run(i, path, m, entries.get(path, {}), commands, unfold) for i, (path, m) in enumerate(runs, 1)]
    return '<section id="runs">\n<h2>Runs</h2>\n' + "\n".join(items) + "\n</section>"


# --------------------------------------------------------------------------- the page


def render_html(index: dict[str, Any], table: dict[str, Any], runs: list[tuple[str, dict[str, Any]]], plots: dict[str, bytes], *, commands: dict[str, list[str]] | None = None) -> str:
    """The bundle's ``index.html``: title, when and by what it was made, the results table, the
    plots, each run in full and the commands to verify and reproduce it.

    ``runs`` are (bundle-relative manifest path, manifest data); ``plots`` maps a file name of
    ``plots/`` to its PNG bytes, in the order to show them; ``commands`` maps a section title to
    shell lines, where :data:`MANIFEST` stands for a run's manifest (default
    :data:`DEFAULT_COMMANDS`). Raises ValueError for a plot that is not a PNG."""
    cmds = DEFAULT_COMMANDS if commands is None else commands
    body = [
        _intro(index, runs),
        _nav(runs, plots),
        "<main>",
        _results(table),
        _plots(plots, list(table.get("metrics") or [])),
        _runs(index, runs, cmds),
        _check(cmds, commands is None),
        _files(index),
        _cite(index),
        "</main>",
    ]
    return _head(_title(index)) + "\n<body>\n" + "\n".join(b for b in body if b) + "\n</body>\n</html>\n"

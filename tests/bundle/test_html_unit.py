"""Fast unit tests of a bundle's ``index.html`` (manifest.bundle.html): hostile manifests render as
text and nothing else, the page is the same bytes for the same inputs, and it shows every run and
every cell of the results table as ``results.md`` has it."""

from __future__ import annotations

import copy
import html
import struct
import zlib
from html.parser import HTMLParser
from typing import Any

import pytest

from manifest.bundle.html import CSP, OPEN_RUNS, render_html, results_notes
from manifest.bundle.tables import render_markdown, results_table

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'


def png(width: int = 2, height: int = 1) -> bytes:
    """A valid RGB PNG of one colour, made here so the unit tests need no matplotlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Page(HTMLParser):
    """Every start tag with its attributes, the text (entities decoded) and the tables' cells."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.tables: list[list[list[tuple[str, dict[str, str | None], str]]]] = []
        self._cell: list[Any] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("th", "td") and self.tables:
            self._cell = [tag, dict(attrs), ""]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell[2] += data


def run(name: str, seed: int, acc: float, **extra: Any) -> dict[str, Any]:
    m = {
        "spec_version": "1.0",
        "id": f"urn:uuid:00000000-0000-4000-8000-{seed:012d}",
        "name": name,
        "provenance": {"created_at": "2026-01-02T03:04:05.678Z", "created_by": {"name": "test", "version": "0"}},
        "run": {"status": "FINISHED", "start_time": "2026-01-02T03:04:05.678Z", "end_time": "2026-01-02T03:05:05.678Z"},
        "params": {"lr": 0.1, "seed": seed, "optimizer": "adam", "early_stop": True, "clip": None},
        "metrics": {"acc": {"value": acc, "step": 3}},
        "code": {"repository": "https://example.org/repo.git", "commit": "ab" * 20, "dirty": False, "command": ["python", "train.py", "--seed", str(seed)]},
    }
    m.update(extra)
    return m


def index_of(runs: list[tuple[str, dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    entries = [{"path": p, "name": m["name"], "id": m["id"], "sha256": f"{i:064x}"} for i, (p, m) in enumerate(runs)]
    return {"bundle_version": 1, "created_at": "2026-12-01T10:00:00.000Z", "created_by": {"name": "experiment-manifest", "version": "0.1.0"}, "manifests": entries, **extra}


def page_of(docs: list[dict[str, Any]], plots: dict[str, bytes] | None = None, **kw: Any) -> tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    runs = [(f"manifests/run-{i}.yaml", m) for i, m in enumerate(docs)]
    table = results_table(docs, sorted({k for m in docs for k in m.get("metrics") or {}}))
    return render_html(index_of(runs, **kw.pop("index", {})), table, runs, {"acc.png": png(), "scalars.png": png(3, 2)} if plots is None else plots, **kw), table, runs


def hostile() -> list[dict[str, Any]]:
    """Untrusted text everywhere a manifest or the index puts text on the page."""
    bad = run(SCRIPT, 1, 0.5, description=BREAKOUT)
    bad["params"] = {"x": BREAKOUT, BREAKOUT: 1, "seed": 1}
    bad["run"]["status"] = BREAKOUT
    bad["data"] = [{"name": SCRIPT, "role": "training", "uri": "javascript:alert(1)", "size": 3, "digest": {"sha256": BREAKOUT}}]
    bad["code"] = {"repository": "javascript:alert(1)//" + BREAKOUT, "commit": SCRIPT, "dirty": True, "command": ["sh", "-c", BREAKOUT]}
    bad["environment"] = {"python": {"version": SCRIPT}, "platform": {"os": BREAKOUT}, "packages": {"numpy": BREAKOUT, SCRIPT: "1"}}
    bad["metrics"] = {SCRIPT: {"value": 1.0, "direction": BREAKOUT}, "acc": {"value": 0.5}}
    bad["models"] = [{"name": BREAKOUT, "id": SCRIPT, "digest": {SCRIPT: BREAKOUT}}]
    bad["provenance"]["source"] = {"system": SCRIPT, "run_id": BREAKOUT}
    return [bad, run("ok", 2, 0.7)]


# --------------------------------------------------------------------------- escaping


def test_hostile_text_renders_as_text_only():
    page, _, _ = page_of(hostile(), plots={f"{BREAKOUT}.png": png()}, index={"experiment": SCRIPT, "filter": BREAKOUT, "citations": [{"text": SCRIPT}]})
    assert SCRIPT not in page and BREAKOUT not in page and "<img src=x" not in page
    assert html.escape(SCRIPT, quote=True) in page and html.escape(BREAKOUT, quote=True) in page
    parsed = Page(page)
    names = [t for t, _ in parsed.tags]
    assert "script" not in names and not {"iframe", "object", "embed", "link", "base", "form", "input", "svg", "math"} & set(names)
    attrs = [(t, k, v) for t, a in parsed.tags for k, v in a]
    assert [a for a in attrs if a[1].startswith("on")] == []
    assert [a for a in attrs if a[1] == "style"] == []  # no inline style: untrusted text can never reach CSS
    links = [(t, k, v) for t, k, v in attrs if k in ("src", "href", "action", "srcset", "poster", "data", "xlink:href", "formaction")]
    assert links and all(v is not None and (v.startswith("data:image/png;base64,") or v.startswith("#")) for _, _, v in links), links
    assert [a for a in attrs if a[1] == "http-equiv"] == [("meta", "http-equiv", "Content-Security-Policy")]
    text = "".join(parsed.text)
    assert text.count(SCRIPT) >= 5 and text.count(BREAKOUT) >= 5  # shown, as the characters they are
    assert names.count("img") == 1  # the plot, not the <img> of a hostile string


def test_the_escaping_check_can_fail():
    """The parser sees an injected element and handler, so the assertions above could fail."""
    parsed = Page(f"<p>{BREAKOUT}</p>{SCRIPT}")
    assert ("img", [("src", "x"), ("onerror", "alert(1)")]) in parsed.tags and "script" in [t for t, _ in parsed.tags]


def test_control_characters_and_lone_surrogates_never_reach_the_page():
    doc = run("a\x00b\x1b[31m\ud800c", 1, 0.5)
    page, _, _ = page_of([doc])
    page.encode("utf-8")  # a lone surrogate would not encode
    assert "a\ufffdb\ufffd[31m\ufffdc" in page and "\x00" not in page and "\x1b" not in page


def test_a_plot_that_is_no_png_is_refused():
    with pytest.raises(ValueError, match="not a PNG"):
        page_of([run("a", 1, 0.5)], plots={"x.png": b"<svg onload=alert(1)>"})


# --------------------------------------------------------------------------- the page


def test_same_inputs_same_bytes():
    docs = [run("a", 1, 0.5), run("b", 2, 0.7)]
    first, _, _ = page_of(docs)
    again, _, _ = page_of(copy.deepcopy(docs))
    assert first == again
    assert page_of([run("a", 1, 0.5), run("b", 2, 0.8)])[0] != first  # and different inputs, a different page


def test_head_and_accessibility():
    page, _, _ = page_of([run("a", 1, 0.5)])
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    parsed = Page(page)
    metas = [dict(a) for t, a in parsed.tags if t == "meta"]
    assert {"charset": "utf-8"} in metas
    assert {"http-equiv": "Content-Security-Policy", "content": CSP} in metas
    assert CSP.startswith("default-src 'none'; img-src data:; style-src 'unsafe-inline'")
    assert any(m.get("name") == "viewport" for m in metas)
    ths = [dict(a) for t, a in parsed.tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "row") for a in ths)
    imgs = [dict(a) for t, a in parsed.tags if t == "img"]
    assert len(imgs) == 2 and all(a.get("alt") for a in imgs)
    assert [a["alt"] for a in imgs] == ["acc by step, one line per configuration", "Final value of each metric by configuration"]


def test_every_run_and_every_cell_of_the_markdown_table():
    docs = [run("rf-a", 1, 0.9), run("rf-b", 2, 0.8), run("rf-c", 3, 0.85), run("other", 1, 0.5)]
    docs[-1]["params"]["lr"] = 0.2
    page, table, runs = page_of(docs)
    md = render_markdown(table).splitlines()
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in md if line.startswith("| ")]
    assert rows[0][:4] == ["run", "lr", "n", "acc"] and len(rows) == 3
    results = Page(page).tables[0]
    assert [[c[2] for c in r] for r in results] == rows  # the same strings, cell for cell
    assert [c[:2] for c in results[1][:3]] == [("th", {"scope": "row"}), ("td", {}), ("td", {"class": "num"})]  # run, lr, n
    notes = [line for line in md if line and not line.startswith("|")]
    assert notes == results_notes(table) and len(notes) == 2
    assert all(html.escape(n) in page for n in notes)
    for i, (path, m) in enumerate(runs, 1):
        assert f'<details id="run-{i}"' in page and f"<h3>{m['name']}</h3>" in page and m["id"] in page and path in page
    assert "0.850 ± 0.050" in page and "[0.726, 0.974]" in page  # 0.9, 0.8, 0.85: sd 0.05 (3 decimals), t(2) · 0.05/√3 = 0.1242


def test_run_sections_show_typed_values_data_code_environment_metrics_and_models():
    doc = run("a", 1, 0.5)
    doc["data"] = [{"name": "iris", "role": "source", "uri": "data/iris.csv", "size": 2734, "digest": {"sha256": "f1" * 32}}]
    doc["environment"] = {"python": {"version": "3.11.7", "implementation": "CPython"}, "platform": {"os": "Linux", "architecture": "x86_64"}, "packages": {"numpy": "2.4.6", "zzz-helper": "1"}}
    doc["models"] = [{"name": "model", "digest": {"dirHash": "a3" * 32}, "size": 10}]
    page, _, _ = page_of([doc])
    text = "".join(Page(page).text)
    for s in ['"adam"', "0.1", "true", "null", "integer", "boolean", "data/iris.csv", "2734 bytes", "sha256:" + "f1" * 32, "ab" * 20, "python train.py --seed 1", "CPython 3.11.7", "Linux x86_64", "2.4.6", "zzz-helper", "dirHash:" + "a3" * 32]:
        assert s in text, s
    assert "Dirty" in text and "false" in text


def test_commands_per_run_are_shell_quoted_and_bundle_commands_shown_once():
    docs = [run("a", 1, 0.5), run("b", 2, 0.7)]
    runs = [("manifests/a run.yaml", docs[0]), ("manifests/b.yaml", docs[1])]
    table = results_table(docs, ["acc"])
    page = render_html(index_of(runs), table, runs, {}, commands={"Verify": ["sha256sum -c SHA256SUMS", "manifest verify {manifest}"], "Reproduce": ["manifest reproduce {manifest} --yes"]})
    assert page.count("sha256sum -c SHA256SUMS") == 1
    assert "manifest verify &#x27;manifests/a run.yaml&#x27;" in page and "manifest reproduce manifests/b.yaml --yes" in page
    assert "{manifest}" not in page and 'id="plots"' not in page  # no plots, no plot section
    default = render_html(index_of(runs), table, runs, {})
    for line in ("manifest validate .", "manifest verify . --signature --key KEY.pub", "manifest verify manifests/b.yaml", "manifest reproduce manifests/b.yaml"):
        assert line in default, line


def test_few_runs_are_unfolded_many_folded():
    few, _, _ = page_of([run(f"r{i}", i, 0.5) for i in range(OPEN_RUNS)])
    many, _, _ = page_of([run(f"r{i}", i, 0.5) for i in range(OPEN_RUNS + 1)])
    assert few.count("<details id=\"run-") == few.count("\" open>") == OPEN_RUNS
    assert "\" open>" not in many


def test_missing_and_malformed_sections_do_not_break_the_page():
    bare = {"id": "urn:x", "name": "bare", "provenance": {}, "run": {}, "params": ["not", "a", "dict"], "data": {"nor": "a list"}, "metrics": None}
    runs = [("manifests/bare.yaml", bare)]
    page = render_html({**index_of(runs), "created_by": "a string"}, results_table([], []), runs, {})  # a table of no runs, too
    assert "No runs to tabulate." in page
    assert "bare" in page and page.count("None recorded.") >= 4

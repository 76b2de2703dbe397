"""A bundle's ``index.html`` in a real browser: Debian's Chromium (``make system-deps``) driven by
Playwright, one launch for the module.

The page is made from the reference example and two replicates of it, with the table of
``results_table`` and the PNGs ``write_plots`` draws. In Chromium it makes no request but for
itself, its images decode, and the rendered text shows the figures of the table and the manifests
(expected values come from those inputs, never from the page); hostile names stay text, and a
folded run prints in full. Negative controls show the request counter does count.
"""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any, Iterator

import pytest

from manifest.bundle.html import OPEN_RUNS, render_html
from manifest.bundle.plots import write_plots
from manifest.bundle.tables import render_markdown, results_table
from manifest.core.names import safe_name

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
EXTERNAL = "http://127.0.0.1:9/x.png"  # the discard port: refused at once, were it ever tried
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run make system-deps (installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright  # lazy: a missing package must fail with a hint, not as a collection error
    except ImportError:
        pytest.fail("playwright is missing: run make install (it is a test dependency)")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])  # root in CI: no sandbox
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def replicate(m: dict[str, Any], k: int, accuracy: float, cv_shift: float) -> dict[str, Any]:
    """The example run again with another seed: new id, name and random_state, other metric values."""
    r = copy.deepcopy(m)
    r["id"] = f"urn:uuid:7f9c2ba4-e88f-4d1b-9c3a-2f1e0d5c6b{k:02d}"
    r["name"] = f"rf-100-trees-seed-{42 + k}"
    r["params"]["random_state"] = 42 + k
    metrics = r["metrics"]
    metrics["accuracy"]["value"] = accuracy
    history = metrics["cv_accuracy"]["history"]
    history["value"] = [v - cv_shift for v in history["value"]]
    metrics["cv_accuracy"]["value"] = history["value"][-1]
    metrics["cv_accuracy_mean"]["value"] -= cv_shift
    return r


def index_of(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    entries = [{"path": p, "name": m["name"], "id": m["id"], "sha256": f"{i:064x}"} for i, (p, m) in enumerate(runs)]
    return {"bundle_version": 1, "created_at": "2026-12-01T10:00:00.000Z", "created_by": {"name": "experiment-manifest", "version": "0.1.0"}, "experiment": "iris-random-forest", "manifests": entries}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, _example_data: dict[str, Any]) -> dict[str, Any]:
    """The page of the example and two replicates, with a real table and real plots, on disk."""
    tmp = tmp_path_factory.mktemp("html")
    docs = [copy.deepcopy(_example_data), replicate(_example_data, 1, 0.9666666666666667, 0.01), replicate(_example_data, 2, 0.9333333333333333, 0.02)]
    runs = [(f"manifests/{safe_name(m['name'])}.yaml", m) for m in docs]
    metrics = sorted(_example_data["metrics"])
    table = results_table(docs, metrics)
    stems = write_plots(tmp / "plots", [(tmp / p, m) for p, m in runs], metrics)
    plots = {f"{safe_name(s)}.png": (tmp / "plots" / f"{safe_name(s)}.png").read_bytes() for s in stems}
    page = tmp / "index.html"
    page.write_text(render_html(index_of(runs), table, runs, plots), encoding="utf-8")
    return {"tmp": tmp, "docs": docs, "table": table, "plots": plots, "page": page}


class Visit:
    """One page opened in a fresh context: every request, console message and dialog it caused."""

    def __init__(self, browser: Any, path: Path, media: str | None = None) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda msg: self.console.append((msg.type, msg.text)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        if media:
            self.page.emulate_media(media=media)
        self.page.goto(self.url, wait_until="load")

    @property
    def others(self) -> list[str]:
        """Requests for anything but the page itself."""
        return [u for u in self.requests if u != self.url]

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_(path: Path, media: str | None = None) -> Visit:
        opened.append(Visit(browser, path, media))
        return opened[-1]

    yield open_
    for v in opened:
        v.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------- the page


def test_no_request_but_the_page_and_every_image_decoded(bundle: dict[str, Any], visit: Any):
    v = visit(bundle["page"])
    assert v.requests == [v.url]
    assert v.others == []
    assert [c for c in v.console if c[0] in ("error", "warning")] == []  # no policy violation either
    images = v.page.evaluate("() => Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt}))")
    assert len(images) == len(bundle["plots"]) == 2  # cv_accuracy.png (history), scalars.png
    for img, data in zip(images, bundle["plots"].values()):
        assert img["complete"] and (img["w"], img["h"]) == png_size(data) and img["alt"]


def test_full_page_screenshot(bundle: dict[str, Any], visit: Any):
    v = visit(bundle["page"])
    shot = bundle["tmp"] / "index.png"
    v.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height = png_size(data)
    assert width == 1280 and height > 3000, (width, height)  # three unfolded runs below two plots
    assert len(data) > 100_000


def test_rendered_text_shows_the_figures_of_the_table_and_the_manifests(bundle: dict[str, Any], visit: Any):
    table, docs = bundle["table"], bundle["docs"]
    [row] = table["rows"]  # three seeds of one configuration
    expected = [row["run"], *row["metrics"].values(), *row["ci"].values()]
    markdown = render_markdown(table)
    assert all(s in markdown for s in expected)  # the strings results.md shows
    assert row["metrics"]["accuracy"] == "0.967 ± 0.033" and row["ci"]["accuracy"] == "[0.884, 1.049]"  # mean of 1, 0.9667, 0.9333
    v = visit(bundle["page"])
    text = v.page.inner_text("body")
    for s in expected:
        assert s in text, s
    cells = v.page.eval_on_selector_all("#results tbody tr:first-child > *", "els => els.map(e => e.innerText)")
    assert cells == [row["run"], str(row["n"]), *(c for k in table["metrics"] for c in (row["metrics"][k], row["ci"][k]))]
    for m in docs:
        assert m["name"] in text and m["id"] in text
    code = docs[0]["code"]
    assert text.count(code["commit"]) == len(docs) and code["repository"] in text
    assert docs[0]["data"][0]["digest"]["sha256"] in text
    assert "manifest reproduce manifests/rf-100-trees-seed-44.yaml" in text and "sha256sum -c SHA256SUMS" in text
    assert all(f"random_state\t{42 + k}" in text for k in range(3))  # the param row of each run


# --------------------------------------------------------------------------- negative controls


def test_the_request_counter_counts_an_external_image(tmp_path: Path, visit: Any):
    """A page without our policy that loads an image from a server: the counter sees it."""
    raw = tmp_path / "raw.html"
    raw.write_text(f'<!DOCTYPE html><html lang="en"><body><img src="{EXTERNAL}" alt="x"></body></html>', encoding="utf-8")
    assert visit(raw).others == [EXTERNAL]


def test_the_policy_blocks_what_an_injected_image_would_load(bundle: dict[str, Any], tmp_path: Path, visit: Any):
    """The same image slipped into the page: still counted (so the test above is no accident of our
    page), and the page's Content-Security-Policy blocks it."""
    tampered = tmp_path / "tampered.html"
    tampered.write_text(bundle["page"].read_text(encoding="utf-8").replace("</body>", f'<img src="{EXTERNAL}" alt="x"></body>'), encoding="utf-8")
    v = visit(tampered)
    assert v.others == [EXTERNAL]
    assert any(kind == "error" and "Content Security Policy" in msg and EXTERNAL in msg for kind, msg in v.console), v.console


# --------------------------------------------------------------------------- hostile manifests, print


def test_hostile_manifest_renders_as_text_in_the_browser(bundle: dict[str, Any], tmp_path: Path, visit: Any):
    docs = [copy.deepcopy(m) for m in bundle["docs"]]
    docs[0]["name"] = SCRIPT
    docs[0]["params"]["criterion"] = BREAKOUT
    docs[0]["code"]["repository"] = "javascript:alert(1)"
    docs.append(replicate(docs[0], 3, 0.9, 0.0))  # OPEN_RUNS + 1 runs: folded
    assert len(docs) > OPEN_RUNS
    runs = [(f"manifests/run-{i}.yaml", m) for i, m in enumerate(docs)]
    page = tmp_path / "hostile.html"
    page.write_text(render_html(index_of(runs), results_table(docs, ["accuracy"]), runs, bundle["plots"]), encoding="utf-8")
    v = visit(page)
    assert v.others == [] and v.dialogs == []
    found = v.page.evaluate(
        "() => ({scripts: document.scripts.length, handlers: Array.from(document.querySelectorAll('*')).flatMap(e => e.getAttributeNames().filter(n => n.startsWith('on'))),"
        " links: Array.from(document.querySelectorAll('[href],[src]')).map(e => e.getAttribute('href') || e.getAttribute('src')).filter(u => !u.startsWith('#') && !u.startsWith('data:image/png;base64,'))})"
    )
    assert found == {"scripts": 0, "handlers": [], "links": []}
    assert SCRIPT in v.page.inner_text("body")  # the run's name, in the contents and the table
    assert not v.page.is_visible("#run-1-params")  # folded on screen...
    v.page.emulate_media(media="print")
    assert v.page.is_visible("#run-1-params") and not v.page.is_visible("nav")  # ...and printed in full
    shown = v.page.inner_text("#run-1")
    assert json.dumps(BREAKOUT) in shown and "javascript:alert(1)" in shown  # the param as typed (a JSON string), the URL as text

"""The package's design, enforced: no import cycle, no private name used across modules, imports
at the top of modules (lazy ones say why), one problem-code registry that matches the spec, and the
public API that keeps working however often it is called.

import-linter checks the layer contracts of ``pyproject.toml`` (``make check``, ``make test``);
these tests check what layer contracts cannot see, such as a cycle inside one layer.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Iterable

import grimp
import pytest

import manifest
from manifest.core.codes import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "manifest"
SPEC = ROOT / "spec" / "manifest-1.0.md"


def _sources(*dirs: Path) -> Iterable[tuple[Path, ast.Module]]:
    for d in dirs:
        for path in sorted(d.rglob("*.py")):
            if "conformance" in path.parts:
                continue
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


# --------------------------------------------------------------------------- cycles


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the strongly connected components with more than one module (cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles():
    """The check below can fail: a three-module cycle and a self-import are found, a chain is not."""
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"a"}}) == [{"a"}]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_anywhere_in_the_package():
    """Every import counts, at the top of a module or inside a function."""
    graph = grimp.build_graph("manifest")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert len(edges) > 50  # the whole package was read
    assert strongly_connected(edges) == []


# --------------------------------------------------------------------------- private names


def _manifest_modules_bound(tree: ast.Module) -> set[str]:
    """Local names bound to modules of this package (``from manifest import x``, ``import manifest.x as y``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("manifest"))
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("manifest")):
            names.update(a.asname or a.name for a in node.names)
    return names


def private_uses(tree: ast.Module) -> list[str]:
    out = []
    bound = _manifest_modules_bound(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("manifest")):
            out += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                out.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
    return out


def test_the_private_name_check_finds_private_names():
    assert private_uses(ast.parse("from manifest.document.reader import _x\n")) == ["line 1: imports _x"]
    assert private_uses(ast.parse("from manifest.document import reader\nreader._yaml()\n")) == ["line 2: uses reader._yaml"]
    assert private_uses(ast.parse("from .reader import __version__, load_path\n")) == []


@pytest.mark.parametrize("where", ["manifest", "tests", "benchmarks", "examples"])
def test_no_private_name_is_used_outside_its_module(where: str):
    bad = [f"{path.relative_to(ROOT)}: {use}" for path, tree in _sources(ROOT / where) for use in private_uses(tree)]
    assert bad == []


# --------------------------------------------------------------------------- imports at the top


def late_imports(tree: ast.Module, lines: list[str]) -> list[str]:
    """Imports inside functions that do not say why (``# lazy: <reason>`` on the line)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and "# lazy: " not in lines[inner.lineno - 1]:
                    out.append(f"line {inner.lineno}: {lines[inner.lineno - 1].strip()}")
    return out


def test_the_late_import_check_finds_late_imports():
    text = "def f():\n    import json\n    import mlflow  # lazy: 1.5 s\n"
    assert late_imports(ast.parse(text), text.splitlines()) == ["line 2: import json"]


def test_imports_are_at_the_top_unless_a_comment_says_why_not():
    bad = []
    for path, tree in _sources(PACKAGE):
        lines = path.read_text(encoding="utf-8").splitlines()
        bad += [f"{path.relative_to(ROOT)}: {x}" for x in late_imports(tree, lines)]
    assert bad == []


# --------------------------------------------------------------------------- problem codes


def _spec_codes() -> dict[str, tuple[str, str]]:
    """code -> (severity, section) from the spec's table in section 16.4."""
    text = SPEC.read_text(encoding="utf-8")
    part = text[text.index("### 16.4 Problem codes"): text.index("## 17. Conformance")]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning) \| \[([0-9.A]+)\]\(#[^)]+\) \| [^|]+ \|$", part, re.MULTILINE)
    assert len(rows) == part.count("\n| `"), "every row of the table has the expected form"
    return {code: (severity, section) for code, severity, section in rows}


def test_registry_and_spec_list_the_same_codes_with_the_same_severity_and_section():
    spec = _spec_codes()
    registry = {c.code: (c.severity, c.section) for c in REGISTRY.values()}
    assert sorted(set(registry) - set(spec)) == [], "registered but not in the spec"
    assert sorted(set(spec) - set(registry)) == [], "in the spec but not registered"
    assert {k: v for k, v in registry.items() if spec[k] != v} == {}


def test_every_code_in_the_spec_rule_tables_is_registered():
    """The codes named in sections 15 and 16.2 (rule tables, reading codes) are all in the registry."""
    text = SPEC.read_text(encoding="utf-8")
    part = text[text.index("## 15. Rules beyond the schema"): text.index("### 16.3")]
    named = set(re.findall(r"`((?:[a-z0-9]+-)+[a-z0-9]+)`", part)) - {"history-file", "dirty-without"}
    named = {c for c in named if not c.startswith(("history_", "diff_"))}
    assert sorted(named - set(REGISTRY)) == []


def test_every_problem_the_code_builds_has_a_registered_code():
    """``Problem("code", ...)`` with a literal code, anywhere in the package, names a registered code."""
    used = set()
    for _, tree in _sources(PACKAGE):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem" and node.args and isinstance(node.args[0], ast.Constant):
                used.add(node.args[0].value)
    assert len(used) > 60
    assert sorted(used - set(REGISTRY)) == []


def test_an_unregistered_code_or_a_wrong_severity_is_refused():
    from manifest.core.problems import Problem

    with pytest.raises(KeyError, match="not registered"):
        Problem("no-such-code", "x")
    with pytest.raises(ValueError, match="registered as warning"):
        Problem("end-time-missing", "x", severity="error")
    assert Problem("end-time-missing", "x").severity == "warning"


# --------------------------------------------------------------------------- the public API


def test_every_submodule_imports_and_the_top_level_functions_keep_working():
    """After every submodule is imported, ``manifest.validate`` is still the function (no submodule
    shares a top-level function's name), however often it is called."""
    names = [m.name for m in pkgutil.walk_packages(manifest.__path__, "manifest.") if not m.name.endswith(".__main__")]
    assert "manifest.tracking.exporting.run" in names and "manifest.cli.cmd_validate" in names
    for name in names:
        importlib.import_module(name)
    public = {n for n in manifest.__all__ if not n.startswith("_")}
    clashes = sorted(n.rsplit(".", 1)[-1] for n in names if n.rsplit(".", 1)[-1] in public)
    assert clashes == []
    doc = manifest.load(str(ROOT / "examples" / "iris" / "manifest.yaml"))
    first = manifest.validate(doc)
    second = manifest.validate(doc)
    assert [p for p in first if p.severity == "error"] == [] and first == second
    assert callable(manifest.validate) and manifest.validate.__module__ == "manifest"
    for name in manifest.__all__:
        assert getattr(manifest, name) is not None
    from manifest import capture, edit

    assert callable(capture.log_context) and callable(edit.ManifestFile.open)

"""YAML 1.2 read safely: the core schema only (:mod:`.yaml_core`), duplicate keys refused, aliases
bounded, nesting bounded before the C parser could overflow its stack, and very long one-line
number lists (metric histories) read as JSON, which means the same and costs far less.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..core.problems import InvalidManifest, Problem, UnreadableInput
from ..core.reals import NON_FINITE
from .json_reader import load_numbers
from .limits import DEFAULT_MAX_BYTES, MAX_ALIAS_CHARACTERS, MAX_ALIAS_EXPANSION, MAX_DEPTH, YAML_SHARE, check_depth, too_deep
from .yaml_core import ValueRefused, events
from .yaml_events import Duplicate, build, first_key_line

_BRACKETS = re.compile(r"[\[\]{}]")
_DEEP_INDENT = re.compile(r"^[ \t]{512,}", re.MULTILINE)
#: A line that opens 256 or more block collections at once: ``- - - x`` (sequences), ``? ? x``
#: (complex keys), with tags or anchors between them. Each indicator nests one level deeper, and
#: the C composer recurses once per level: 100,000 of them crash the interpreter.
_COMPACT_NESTING = re.compile(r"^[ \t]*(?:[-?][ \t]+(?:[!&][^ \t\n]*[ \t]+)*){256}", re.MULTILINE)


def _deeply_nested(text: str) -> bool:
    """Whether the text might nest deeper than the C parser's stack allows (it would crash).

    Every way of nesting is bounded before parsing: indentation, compact block indicators on one
    line, and flow brackets. The bounds are far below what crashes and far above ``MAX_DEPTH``,
    which the parsed tree is checked against afterwards.
    """
    if _DEEP_INDENT.search(text) or ("- " in text or "? " in text) and _COMPACT_NESTING.search(text):
        return True
    if text.count("[") + text.count("{") < 512:
        return False
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest >= 512


def parse_yaml(text: str, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES // YAML_SHARE) -> Any:
    """The data of a YAML 1.2 text (core schema); :class:`InvalidManifest` with a position otherwise.

    At most ``max_bytes`` of the text are read by the YAML parser; long one-line number lists,
    read as JSON, do not count (:func:`lift_long_number_lists`)."""
    if _deeply_nested(text):
        raise too_deep(name)
    text, lifted = lift_long_number_lists(text)
    _check_yaml_size(text, name, max_bytes)
    try:
        data = build(events(text))
    except Duplicate as exc:
        first = first_key_line(events(text), exc.mapping_mark, exc.key)
        where = f" (first at line {first})" if first is not None else ""
        raise InvalidManifest(Problem("duplicate-key", f"duplicate key {json.dumps(exc.key, ensure_ascii=False)}{where}", None, *_line_col(exc)), file=name) from None
    except ValueRefused as exc:
        raise InvalidManifest(Problem(exc.code, str(exc.problem), None, *_line_col(exc)), file=name) from None
    except MarkedYAMLError as exc:
        raise InvalidManifest(_marked_problem(exc), file=name) from None
    except RecursionError:
        raise too_deep(name) from None
    except YAMLError as exc:
        raise InvalidManifest(Problem("yaml-syntax", f"invalid YAML: {exc}"), file=name) from None
    if data is None and not _has_content(text):
        raise InvalidManifest(Problem("empty-document", "the document is empty", "", 1, 1), file=name)
    if lifted:
        data = _restore_lifted(data, lifted)
    _check_tree(data, text, name)
    return data


def _check_yaml_size(text: str, name: str, max_bytes: int) -> None:
    if len(text) <= max_bytes // 4 or (len(text) <= max_bytes and len(text.encode("utf-8", "surrogatepass")) <= max_bytes):
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    raise UnreadableInput(
        Problem(
            "file-too-large",
            f"{size / (1 << 20):.1f} MiB of YAML to parse (outside one-line number lists), over the YAML limit of {max_bytes / (1 << 20):.1f} MiB,"
            " a quarter of the file-size limit; write the manifest as JSON, move long histories to sidecar files, or raise --max-file-size",
        ),
        file=name,
    )


_LONG_LIST_LINE = re.compile(r"([ \t]*(?:- )?[A-Za-z_][A-Za-z0-9_.-]*:[ \t]+)\[(.*)\][ \t]*")
_NUMBER_LIST_CHARS = re.compile(r'[0-9eE+\-., \t"NaInfity]*')
LIFT_MIN_LINE = 4096


def lift_long_number_lists(text: str) -> tuple[str, dict[str, list[Any]]]:
    """Parse very long one-line flow sequences of numbers (metric histories) as JSON.

    ``key: [1, 2.5, "NaN", ...]`` spanning a whole line means the same in YAML 1.2 and JSON; the
    YAML parser builds a node per number, which for a million points costs seconds and gigabytes.
    Such a line's list is parsed here and its place taken by a unique plain scalar (line numbers are
    unchanged); anything that is not plainly such a list is left to the YAML parser.
    """
    if len(text) < (1 << 20):
        return text, {}
    lines = text.split("\n")
    lifted: dict[str, list[Any]] = {}
    nonce = secrets.token_hex(8)
    for i, line in enumerate(lines):
        if len(line) < LIFT_MIN_LINE:
            continue
        m = _LONG_LIST_LINE.fullmatch(line)
        if not m or not _NUMBER_LIST_CHARS.fullmatch(m.group(2)):
            continue
        try:
            values = load_numbers("[" + m.group(2) + "]")
        except Exception:  # noqa: BLE001 - anything unusual is left to the YAML parser, which reports it with a position
            continue
        if any(isinstance(v, str) and v not in NON_FINITE for v in values):
            continue
        key = f"manifest-lifted-{nonce}-{i}"
        lifted[key] = values
        lines[i] = m.group(1) + key
    return ("\n".join(lines), lifted) if lifted else (text, {})


def _restore_lifted(data: Any, lifted: dict[str, list[Any]]) -> Any:
    if isinstance(data, str) and data in lifted:
        return lifted[data]
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, (dict, list, str)):
                data[k] = _restore_lifted(v, lifted)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            if isinstance(v, (dict, list)) or (isinstance(v, str) and v in lifted):
                data[i] = _restore_lifted(v, lifted)
    return data


def _has_content(text: str) -> bool:
    return any(ln.strip() and not ln.lstrip().startswith(("#", "---", "...")) for ln in text.splitlines())


def _marked_problem(exc: MarkedYAMLError) -> Problem:
    """The problem of a YAML syntax error (the scanner's and parser's, with their position)."""
    what = " ".join(s for s in (exc.context, exc.problem) if s)
    return Problem("yaml-syntax", f"invalid YAML: {what}", None, *_line_col(exc))


def _line_col(exc: Any) -> tuple[int | None, int | None]:
    mark = exc.problem_mark or exc.context_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _check_tree(data: Any, text: str, name: str) -> None:
    """Refuse cycles, too-deep nesting and alias bombs (memoised, linear time)."""
    if "*" not in text:  # no alias: the tree is a tree; only keys and depth need checking
        check_depth(data, name)
        return
    _AliasWalk(name, len(text)).size(data, 0)


class _AliasWalk:
    """Measures what a document expands to, each shared node once (aliases make a DAG): nodes,
    and characters of strings and keys. Every consumer (validation, digests, import, diff) sees the
    expanded tree, so what aliases add is bounded in both, not in nodes only: 1,000 aliases of one
    1 MB string are 1,000 nodes but a gigabyte of text."""

    def __init__(self, name: str, text_length: int) -> None:
        self.name = name
        self.own_chars = text_length  # the document cannot hold more characters than its text
        self.sizes: dict[int, tuple[int, int]] = {}  # expanded (nodes, characters) of each container seen
        self.active: set[int] = set()  # containers on the current path (a repeat is a cycle)
        self.own_nodes = 0  # nodes written in the document itself

    def bomb(self, what: str) -> InvalidManifest:
        return InvalidManifest(Problem("alias-bomb", f"aliases expand the document by more than {what}"), file=self.name)

    def size(self, obj: Any, depth: int) -> tuple[int, int]:
        if not isinstance(obj, (dict, list)):
            return 1, len(obj) if isinstance(obj, str) else 0
        oid = id(obj)
        if oid in self.sizes:
            return self.sizes[oid]
        if oid in self.active:
            raise InvalidManifest(Problem("recursive-alias", "an alias refers to a node that contains it"), file=self.name)
        if depth > MAX_DEPTH:
            raise too_deep(self.name)
        self.active.add(oid)
        self.own_nodes += 1 + len(obj)
        nodes, chars = 1, 0
        if isinstance(obj, dict):
            chars += sum(map(len, obj))
        for v in obj.values() if isinstance(obj, dict) else obj:
            n, c = self.size(v, depth + 1)
            nodes += n
            chars += c
            if nodes - self.own_nodes > MAX_ALIAS_EXPANSION:
                raise self.bomb(f"{MAX_ALIAS_EXPANSION:,} nodes")
            if chars - self.own_chars > MAX_ALIAS_CHARACTERS:
                raise self.bomb(f"{MAX_ALIAS_CHARACTERS:,} characters of text")
        self.active.discard(oid)
        self.sizes[oid] = nodes, chars
        return nodes, chars

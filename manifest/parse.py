"""Reading manifests from YAML 1.2 and JSON text, safely, with positions for error messages.

YAML is read with ruamel.yaml using the YAML 1.2 core schema and nothing else: timestamps stay
strings, ``yes``/``no`` stay strings, tags outside the core schema (``!!python/...``, ``!!binary``,
``!!set``, custom ``!tags``) are refused without being acted on, duplicate keys are errors, and
aliases may not expand the document by more than :data:`MAX_ALIAS_EXPANSION` nodes. JSON is read
strictly (RFC 8259): duplicate keys and the non-standard ``NaN``/``Infinity`` literals are errors.
In both, non-finite numbers are written as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
YAML's ``.nan``/``.inf`` are read as those strings.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import InvalidManifest, Problem, UnreadableInput

Format = Literal["json", "yaml"]

#: Files larger than this are refused unless the caller raises the limit.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: How many nodes aliases may add to a YAML document beyond its own.
MAX_ALIAS_EXPANSION = 100_000
#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 64

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass
class Document:
    """A parsed document: its data (JSON data model) and the text it came from."""

    data: Any
    text: str
    format: Format
    name: str
    path: Path | None = None
    _locator: Any = field(default=None, repr=False)

    @property
    def base_dir(self) -> Path | None:
        """Directory that relative paths in the document resolve against."""
        return self.path.parent if self.path is not None else None

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        """1-based ``(line, column)`` of the value (or with ``key``, the key) at ``pointer``."""
        if self._locator is None:
            from .positions import locator_for

            self._locator = locator_for(self.text, self.format)
        return self._locator(pointer, key=key)


def format_for(name: str, text: str | None = None) -> Format:
    """Guess the format from a file name, else from the first character of the text."""
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if text is not None and text.lstrip()[:1] in ("{", "["):
        return "json"
    return "yaml"


def read_bytes(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file (``-`` is standard input) refusing more than ``max_bytes``."""
    name = str(path)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            p = Path(path)
            size = p.stat().st_size
            if size > max_bytes:
                raise UnreadableInput(Problem("file-too-large", f"file is {_mib(size)}, over the limit of {_mib(max_bytes)} (raise it with --max-file-size)"), file=name)
            with p.open("rb") as fh:
                data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise UnreadableInput(Problem("not-found", "no such file or directory"), file=name) from None
    except IsADirectoryError:
        raise UnreadableInput(Problem("is-a-directory", "is a directory"), file=name) from None
    except PermissionError:
        raise UnreadableInput(Problem("permission-denied", "permission denied"), file=name) from None
    except OSError as exc:
        raise UnreadableInput(Problem("read-error", f"cannot read: {exc.strerror or exc}"), file=name) from None
    if len(data) > max_bytes:
        raise UnreadableInput(Problem("file-too-large", f"input is over the limit of {_mib(max_bytes)} (raise it with --max-file-size)"), file=name)
    return data


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (a leading BOM is dropped); other encodings are refused with a position."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidManifest(Problem("encoding", f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", None, line, col), file=name) from None


def load_path(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, format: Format | None = None) -> Document:
    """Read and parse a manifest file (or ``-`` for standard input)."""
    name = str(path)
    text = decode(read_bytes(path, max_bytes=max_bytes), name)
    fmt = format or format_for(name if name != "-" else "", text)
    doc = parse_text(text, fmt, name=name)
    if name != "-":
        doc.path = Path(path)
    return doc


def parse_text(text: str, format: Format, *, name: str = "<string>") -> Document:
    """Parse ``text`` as ``format`` into a :class:`Document`; raise :class:`InvalidManifest`."""
    if not text.strip():
        raise InvalidManifest(Problem("empty-document", "the document is empty", "", 1, 1), file=name)
    data = _parse_json(text, name) if format == "json" else _parse_yaml(text, name)
    return Document(data=data, text=text, format=format, name=name)


# --------------------------------------------------------------------------- JSON


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


def _bad_constant(token: str) -> Any:
    raise ValueError(token)


_BIG_EXPONENT = re.compile(r"[eE]\+?[0-9]{3,}")


def _parse_json(text: str, name: str) -> Any:
    data = _load_json(text, name)
    _check_keys_depth(data, name, 0)
    if _BIG_EXPONENT.search(text):  # 1e400 parses as inf: write it as YAML does, "Infinity"
        data = _finite_or_string(data)
    if "\\u" in text and re.search(r"\\u[dD][89abAB]", text):
        _refuse_lone_surrogates(data, name)
    return data


def _finite_or_string(v: Any) -> Any:
    if isinstance(v, float) and math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict):
        return {k: _finite_or_string(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite_or_string(x) for x in v]
    return v


def _refuse_lone_surrogates(v: Any, name: str) -> None:
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidManifest(Problem("encoding", f"string {x[:40]!r} holds an unpaired UTF-16 surrogate escape; it is not valid Unicode text"), file=name) from None


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_bad_constant)
    except json.JSONDecodeError as exc:
        raise InvalidManifest(Problem("json-syntax", f"invalid JSON: {exc.msg}", None, exc.lineno, exc.colno), file=name) from None
    except _DuplicateKey as exc:
        from .positions import find_json_duplicate

        found = find_json_duplicate(text)
        pointer, line, col = found if found else (None, None, None)
        raise InvalidManifest(Problem("duplicate-key", f"duplicate key {json.dumps(exc.key, ensure_ascii=False)}", pointer, line, col), file=name) from None
    except ValueError as exc:
        token = str(exc)
        pos = _find_constant(text, token)
        hint = {"NaN": '"NaN"', "Infinity": '"Infinity"', "-Infinity": '"-Infinity"'}.get(token, "a string")
        raise InvalidManifest(Problem("json-syntax", f"invalid JSON: {token} is not a JSON value; write non-finite numbers as the string {hint}", None, *pos), file=name) from None
    except RecursionError:
        raise InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name) from None


def _find_constant(text: str, token: str) -> tuple[int | None, int | None]:
    m = re.search(r"(?<![\"\w])" + re.escape(token) + r"(?![\"\w])", text)
    if not m:
        return None, None
    line = text.count("\n", 0, m.start()) + 1
    return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1


# --------------------------------------------------------------------------- YAML

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_TAG = "tag:yaml.org,2002:"


def _yaml_classes() -> tuple[Any, Any]:
    from ruamel.yaml.constructor import ConstructorError, SafeConstructor
    from ruamel.yaml.nodes import MappingNode, ScalarNode
    from ruamel.yaml.resolver import BaseResolver
    from ruamel.yaml.tag import Tag

    tags = {k: Tag(suffix=_TAG + k) for k in ("null", "bool", "int", "float", "str", "seq", "map")}

    class CoreResolver(BaseResolver):
        """The YAML 1.2 core schema, exactly (no timestamps, no merge keys, no ``1_000``)."""

        yaml_implicit_resolvers: dict[Any, Any] = {}

        def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
            super().__init__(loadumper=loadumper or loader)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if implicit[0]:
                    if _NULL.fullmatch(value):
                        return tags["null"]
                    if value in _BOOL:
                        return tags["bool"]
                    if _INT.fullmatch(value):
                        return tags["int"]
                    if _FLOAT.fullmatch(value):
                        return tags["float"]
                return tags["str"]
            if kind is MappingNode:
                return tags["map"]
            return tags["seq"]

        @property
        def processing_version(self) -> Any:
            return (1, 2)

    class CoreConstructor(SafeConstructor):
        """Builds only JSON data-model values; anything else is refused, never constructed."""

        yaml_constructors: dict[Any, Any] = {}

        def construct_yaml_int(self, node: Any) -> int:
            v = node.value
            if v.startswith("0o"):
                return int(v[2:], 8)
            if v.startswith("0x"):
                return int(v[2:], 16)
            return int(v)

        def construct_yaml_float(self, node: Any) -> Any:
            v = node.value.lower()
            if v.endswith(".nan"):
                return "NaN"
            if v.endswith(".inf"):
                return "-Infinity" if v.startswith("-") else "Infinity"
            f = float(v)
            if math.isinf(f):
                return "-Infinity" if f < 0 else "Infinity"
            return f

        def construct_yaml_bool(self, node: Any) -> bool:
            return _BOOL[node.value]

        def construct_undefined(self, node: Any) -> Any:
            raise ConstructorError(None, None, f"tag {node.tag!s} is not allowed in a manifest (only JSON types are)", node.start_mark)

    for key, fn in (
        ("null", SafeConstructor.construct_yaml_null),
        ("bool", CoreConstructor.construct_yaml_bool),
        ("int", CoreConstructor.construct_yaml_int),
        ("float", CoreConstructor.construct_yaml_float),
        ("str", SafeConstructor.construct_yaml_str),
        ("seq", SafeConstructor.construct_yaml_seq),
        ("map", SafeConstructor.construct_yaml_map),
    ):
        CoreConstructor.add_constructor(_TAG + key, fn)
    CoreConstructor.add_constructor(None, CoreConstructor.construct_undefined)
    return CoreResolver, CoreConstructor


_YAML: Any = None


def _yaml() -> Any:
    global _YAML
    if _YAML is None:
        from ruamel.yaml import YAML

        resolver, constructor = _yaml_classes()
        try:
            y = YAML(typ="safe", pure=False)
            from ruamel.yaml import CParser  # noqa: F401  (only present with the C extension)
        except ImportError:
            y = YAML(typ="safe", pure=True)
        y.Resolver = resolver
        y.Constructor = constructor
        y.allow_duplicate_keys = False
        _YAML = y
    return _YAML


_BRACKETS = re.compile(r"[\[\]{}]")
_DEEP_INDENT = re.compile(r"^[ \t]{512,}", re.MULTILINE)


def _deeply_nested(text: str) -> bool:
    """Whether the text might nest deeper than the C parser's stack allows (it would crash)."""
    if _DEEP_INDENT.search(text):
        return True
    if text.count("[") + text.count("{") < 512:
        return False
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest >= 512


def _parse_yaml(text: str, name: str) -> Any:
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if _deeply_nested(text):
        raise InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name)
    text, lifted = _lift_long_number_lists(text)
    try:
        data = _yaml().load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = _duplicate_key_name(str(exc.problem))
        first = _first_key_line(text, exc.context_mark, key)
        where = f" (first at line {first})" if first is not None else ""
        raise InvalidManifest(Problem("duplicate-key", f"duplicate key {key}{where}", None, mark.line + 1, mark.column + 1), file=name) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        code = "forbidden-tag" if "tag" in str(exc.problem) and "constructor" in type(exc).__name__.lower() else "yaml-syntax"
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        msg = f"YAML tag refused: {exc.problem}" if code == "forbidden-tag" else f"invalid YAML: {what}"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise InvalidManifest(Problem(code, msg, None, line, col), file=name) from None
    except RecursionError:
        raise InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name) from None
    except YAMLError as exc:
        raise InvalidManifest(Problem("yaml-syntax", f"invalid YAML: {exc}"), file=name) from None
    if data is None and not _has_content(text):
        raise InvalidManifest(Problem("empty-document", "the document is empty", "", 1, 1), file=name)
    if lifted:
        data = _restore_lifted(data, lifted)
    _check_tree(data, text, name)
    return data


_LONG_LIST_LINE = re.compile(r"([ \t]*(?:- )?[A-Za-z_][A-Za-z0-9_.-]*:[ \t]+)\[(.*)\][ \t]*")
_NUMBER_LIST_CHARS = re.compile(r'[0-9eE+\-., \t"NaInfity]*')
LIFT_MIN_LINE = 4096


def _lift_long_number_lists(text: str) -> tuple[str, dict[str, list[Any]]]:
    """Parse very long one-line flow sequences of numbers (metric histories) as JSON.

    ``key: [1, 2.5, "NaN", ...]`` spanning a whole line means the same in YAML 1.2 and JSON; the
    YAML parser builds a node per number, which for a million points costs seconds and gigabytes.
    Such a line's list is parsed here and its place taken by a unique plain scalar (line numbers are
    unchanged); anything that is not plainly such a list is left to the YAML parser.
    """
    if len(text) < (1 << 20):
        return text, {}
    import secrets

    from .write import json_real

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
            values = json.loads("[" + m.group(2) + "]", parse_constant=_bad_constant)
        except ValueError:
            continue
        if any(isinstance(v, str) and v not in NON_FINITE for v in values):
            continue
        key = f"manifest-lifted-{nonce}-{i}"
        lifted[key] = [json_real(v) for v in values]  # huge numbers read as infinities keep the manifest's form
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


def _first_key_line(text: str, mapping_mark: Any, key: str) -> int | None:
    """Line of the first occurrence of ``key`` in the mapping that starts at ``mapping_mark``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if mapping_mark is None:
        return None
    try:
        root = YAML(typ="safe", pure=True).compose(text)
    except Exception:  # noqa: BLE001 - only used to improve a message
        return None
    want = json.loads(key) if key.startswith('"') else key
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            if (node.start_mark.line, node.start_mark.column) == (mapping_mark.line, mapping_mark.column):
                for k, _ in node.value:
                    if getattr(k, "value", None) == want:
                        return int(k.start_mark.line) + 1
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


def _duplicate_key_name(problem: str) -> str:
    m = re.search(r'found duplicate key (".*?") with value', problem)
    return m.group(1) if m else "(unknown)"


def _has_content(text: str) -> bool:
    return any(ln.strip() and not ln.lstrip().startswith(("#", "---", "...")) for ln in text.splitlines())


def _check_tree(data: Any, text: str, name: str) -> None:
    """Refuse non-string keys, cycles, too-deep nesting and alias bombs (memoised, linear time)."""
    if "*" not in text:  # no alias: the tree is a tree; only keys and depth need checking
        _check_keys_depth(data, name, 0)
        return
    sizes: dict[int, int] = {}
    active: set[int] = set()
    own = 0

    def walk(obj: Any, depth: int) -> int:
        nonlocal own
        if not isinstance(obj, (dict, list)):
            return 1
        oid = id(obj)
        if oid in sizes:
            return sizes[oid]
        if oid in active:
            raise InvalidManifest(Problem("recursive-alias", "an alias refers to a node that contains it"), file=name)
        if depth > MAX_DEPTH:
            raise InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name)
        active.add(oid)
        total = 1
        values = obj.values() if isinstance(obj, dict) else obj
        if isinstance(obj, dict):
            for k in obj:
                if not isinstance(k, str):
                    raise InvalidManifest(Problem("non-string-key", f"mapping key {k!r} is not a string"), file=name)
        own += 1 + len(obj)
        for v in values:
            total += walk(v, depth + 1)
            if total - own > MAX_ALIAS_EXPANSION:
                raise InvalidManifest(Problem("alias-bomb", f"aliases expand the document by more than {MAX_ALIAS_EXPANSION:,} nodes"), file=name)
        active.discard(oid)
        sizes[oid] = total
        return total

    size = walk(data, 0)
    if size - own > MAX_ALIAS_EXPANSION:
        raise InvalidManifest(Problem("alias-bomb", f"aliases expand the document by more than {MAX_ALIAS_EXPANSION:,} nodes"), file=name)


def _check_keys_depth(obj: Any, name: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name)
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise InvalidManifest(Problem("non-string-key", f"mapping key {k!r} is not a string"), file=name)
            if isinstance(v, (dict, list)):
                _check_keys_depth(v, name, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)):
                _check_keys_depth(v, name, depth + 1)


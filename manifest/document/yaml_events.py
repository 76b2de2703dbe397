"""Values built straight from the YAML parser's events, in one pass with an explicit stack.

ruamel.yaml's loader composes a node per scalar (Python objects with marks, resolved in Python) and
then constructs values from the nodes: ~6 µs a node, most of a large YAML file's reading time and
memory. The events already say everything the core schema needs, so values are built from them
directly (~3x faster, and no node tree is kept): scalars resolved by :mod:`.yaml_core`'s rules,
collection tags limited to their own kind, keys required to be strings and unique, aliases shared
(the reader's alias walk then bounds their expansion), and an alias to an open collection refused.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from ..core.text import shorten
from .yaml_core import TAG_PREFIX, ValueRefused, plain_value, tagged_value

_MAP, _SEQ, _STR = TAG_PREFIX + "map", TAG_PREFIX + "seq", TAG_PREFIX + "str"
_NO_KEY = object()


class Duplicate(ValueRefused):
    """A key that is already in its mapping; ``mapping_mark`` is where the mapping starts (for the
    line of the first occurrence, which the reader finds only when it reports the error)."""

    def __init__(self, key: str, mark: Any, mapping_mark: Any) -> None:
        super().__init__("duplicate-key", key, mark)
        self.key = key
        self.mapping_mark = mapping_mark


class _Open:
    """A collection being built: its value, its start, its anchor and (mappings) the pending key."""

    __slots__ = ("value", "mark", "anchor", "key")

    def __init__(self, value: Any, mark: Any, anchor: str | None) -> None:
        self.value = value
        self.mark = mark
        self.anchor = anchor
        self.key: Any = _NO_KEY


def build(events: Iterable[Any]) -> Any:
    """The value of the single document in ``events``; :class:`ValueRefused` or a YAML error."""
    b = _Builder()
    step = b.steps
    for ev in events:
        handle = step.get(type(ev))
        if handle is not None:
            handle(ev)
    return b.root


class _Builder:
    """The state of one pass: open collections, anchors, and the document's value when done."""

    def __init__(self) -> None:
        self.anchors: dict[str, Any] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.root: Any = None
        self.documents = 0
        self.steps: dict[type, Callable[[Any], None]] = {
            ScalarEvent: self.scalar,
            AliasEvent: self.alias,
            MappingStartEvent: self.mapping_start,
            SequenceStartEvent: self.sequence_start,
            MappingEndEvent: self.end,
            SequenceEndEvent: self.end,
            DocumentStartEvent: self.document,
        }

    def scalar(self, ev: Any) -> None:
        value = _scalar(ev)
        if ev.anchor is not None:
            self.anchors[ev.anchor] = value
            self.open_anchors.discard(ev.anchor)
        self.place(value, ev)

    def alias(self, ev: Any) -> None:
        if ev.anchor in self.open_anchors:
            raise ValueRefused("recursive-alias", "an alias refers to a node that contains it", ev.start_mark)
        if ev.anchor not in self.anchors:
            raise MarkedYAMLError(None, None, f"found undefined alias {shorten(repr(ev.anchor), 42)}", ev.start_mark)
        self.place(self.anchors[ev.anchor], ev)

    def mapping_start(self, ev: Any) -> None:
        self.open(ev, {}, _MAP)

    def sequence_start(self, ev: Any) -> None:
        self.open(ev, [], _SEQ)

    def open(self, ev: Any, value: Any, own_tag: str) -> None:
        tag = ev.tag
        if tag is not None and tag != "!" and tag != own_tag:
            raise ValueRefused("forbidden-tag", f"YAML tag refused: tag {shorten(tag, 60)} is not allowed in a manifest (only JSON types are)", ev.start_mark)
        stack = self.stack
        if stack and stack[-1].key is _NO_KEY and type(stack[-1].value) is dict:
            kind = "mapping" if type(value) is dict else "sequence"
            raise ValueRefused("non-string-key", f"a mapping key that is a {kind} is not a string; keys must be strings", ev.start_mark)
        if ev.anchor is not None:
            self.anchors[ev.anchor] = value
            self.open_anchors.add(ev.anchor)
        stack.append(_Open(value, ev.start_mark, ev.anchor))

    def end(self, ev: Any) -> None:
        done = self.stack.pop()
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
        self.place(done.value, ev)

    def document(self, ev: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            raise MarkedYAMLError("expected a single document in the stream", None, "but found another document", ev.start_mark)

    def place(self, value: Any, ev: Any) -> None:
        """Put a finished value where it belongs: the root, an item, a key, or a key's value."""
        if not self.stack:
            self.root = str(value) if type(value) is _NonText else value
            return
        top = self.stack[-1]
        if type(value) is _NonText and not (type(top.value) is dict and top.key is _NO_KEY):
            value = str(value)
        if type(top.value) is list:
            top.value.append(value)
        elif top.key is _NO_KEY:
            if type(value) is not str:
                what = "a non-finite number" if type(value) is _NonText else "not a string"
                raise ValueRefused("non-string-key", f"mapping key {shorten(repr(str(value) if type(value) is _NonText else value), 42)} is {what} (quote it)", ev.start_mark)
            if value in top.value:
                raise Duplicate(value, ev.start_mark, top.mark)
            top.key = value
        else:
            top.value[top.key] = value
            top.key = _NO_KEY


class _NonText(str):
    """A number the data model writes as a string (``.nan`` becomes ``"NaN"``) while it is being
    placed: as a value it becomes that plain string; as a mapping key it is refused like any other
    number (found by ``make fuzz``: ``? .nan`` was read as the key ``"NaN"``)."""


def _scalar(ev: Any) -> Any:
    tag = ev.tag
    if tag is None or tag == "!":
        if not (ev.implicit[0] and tag is None):
            return ev.value
        v = plain_value(ev.value, ev.start_mark)
        return _NonText(v) if type(v) is str and v is not ev.value else v  # the text itself comes back as is
    v = tagged_value(tag, ev.value, ev.start_mark)
    return _NonText(v) if type(v) is str and tag != _STR else v


def first_key_line(events: Iterable[Any], mapping_mark: Any, key: str) -> int | None:
    """The line (1-based) of ``key``'s first occurrence in the mapping that starts at ``mapping_mark``."""
    depth, inside, expect_key = 0, None, False
    want = (mapping_mark.line, mapping_mark.column)
    for ev in events:
        cls = type(ev)
        if cls is MappingStartEvent or cls is SequenceStartEvent:
            depth += 1
            if cls is MappingStartEvent and (ev.start_mark.line, ev.start_mark.column) == want:
                inside, expect_key = depth, True
                continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            depth -= 1
            if inside is not None and depth < inside:
                return None
        if inside is None or cls is MappingEndEvent or cls is SequenceEndEvent:
            continue
        if depth == inside:
            if expect_key and cls is ScalarEvent and ev.value == key:
                return int(ev.start_mark.line) + 1
            expect_key = not expect_key
        elif depth == inside + 1 and cls in (MappingStartEvent, SequenceStartEvent):
            expect_key = not expect_key  # a collection value (its contents are deeper)
    return None

"""Text from documents made safe to print: control characters escaped, long values shortened."""

from __future__ import annotations

import json
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters shown as JSON escapes, so that a value from a document cannot move the
    cursor, clear the screen or start a new line on a terminal."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def fs_text(name: str) -> str:
    """A file name as printable text: bytes that are not UTF-8 (which Linux allows in names, and
    Python keeps as lone surrogates) shown as ``\\xNN``, so that printing it cannot fail."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis) for one-line messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Text from documents made safe to print: control characters escaped, long values shortened."""

from __future__ import annotations

import json
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters shown as JSON escapes, so that a value from a document cannot move the
    cursor, clear the screen or start a new line on a terminal."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis) for one-line messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

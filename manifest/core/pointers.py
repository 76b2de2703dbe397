"""RFC 6901 JSON pointers: how every problem says where in a document it is."""

from __future__ import annotations

from typing import Any


def split_pointer(pointer: str) -> list[str]:
    """RFC 6901 pointer -> reference tokens."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def join_pointer(tokens: list[Any] | tuple[Any, ...]) -> str:
    """Reference tokens -> RFC 6901 pointer."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)

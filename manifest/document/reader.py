"""Reading manifests from files and text, safely, into a :class:`Document` that knows positions.

The two syntaxes are read by :mod:`.json_reader` (strict RFC 8259) and :mod:`.yaml_reader` (the
YAML 1.2 core schema and nothing else); both give the JSON data model, with non-finite numbers as
the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, within the limits of :mod:`.limits`.
"""

from __future__ import annotations

import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.problems import InvalidManifest, Problem, UnreadableInput
from .json_reader import parse_json
from .limits import DEFAULT_MAX_BYTES, YAML_SHARE
from .positions import locator_for
from .yaml_reader import parse_yaml

Format = Literal["json", "yaml"]


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
            st = p.stat()
            if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
                raise UnreadableInput(Problem("not-a-regular-file", "is not a regular file (a FIFO, device or socket); it is not opened"), file=name)
            size = st.st_size
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
    doc = parse_text(text, fmt, name=name, max_bytes=max_bytes)
    if name != "-":
        doc.path = Path(path)
    return doc


def parse_text(text: str, format: Format, *, name: str = "<string>", max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Parse ``text`` as ``format`` into a :class:`Document`; raise :class:`InvalidManifest`.

    ``max_bytes`` is the file-size limit the text was read under; YAML is held to a quarter of it
    (:func:`.yaml_reader.parse_yaml`)."""
    if not text.strip():
        raise InvalidManifest(Problem("empty-document", "the document is empty", "", 1, 1), file=name)
    if not text.isascii():
        _refuse_surrogates(text, name)
    data = parse_json(text, name) if format == "json" else parse_yaml(text, name, max_bytes=max_bytes // YAML_SHARE)
    return Document(data=data, text=text, format=format, name=name)


def _refuse_surrogates(text: str, name: str) -> None:
    """Text given as a ``str`` (not decoded from UTF-8 here) may hold lone surrogates: not Unicode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        col = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise InvalidManifest(Problem("encoding", f"the text holds an unpaired surrogate (U+{ord(text[exc.start]):04X}); it is not Unicode text", None, line, col), file=name) from None

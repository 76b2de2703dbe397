"""Names turned into safe, comparable forms: file names from run and metric names, package names."""

from __future__ import annotations

import hashlib
import re


def safe_name(name: str) -> str:
    """A file-name-safe form of a metric or run name (with a short hash when characters were lost)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "x"
    if s != name:
        s = f"{s[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return s


def normalize_name(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()

"""The canonical form of a manifest (RFC 8785, JSON Canonicalization Scheme) and its digest."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from .writer import normalize


def _es_number(x: float | int) -> str:
    """ECMAScript Number-to-String, as RFC 8785 (JCS) prescribes."""
    if isinstance(x, int) and abs(x) < 2**53:
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite numbers have no canonical JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    s = repr(abs(x))
    mant, _, exp = s.partition("e")
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    point = len(ip) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        body = (digits + es) if k == 1 else (digits[0] + "." + digits[1:] + es)
    return sign + body


def _jcs(v: Any, out: list[str]) -> None:
    if isinstance(v, dict):
        out.append("{")
        for i, k in enumerate(sorted(v, key=lambda s: s.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _jcs(v[k], out)
        out.append("}")
    elif isinstance(v, list):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _jcs(x, out)
        out.append("]")
    elif v is None or isinstance(v, (bool, str)):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, (int, float)):
        out.append(_es_number(v))
    else:
        raise TypeError(f"not a JSON value: {type(v).__name__}")


def canonical_json(data: Any) -> bytes:
    """The RFC 8785 (JSON Canonicalization Scheme) bytes of a manifest."""
    out: list[str] = []
    _jcs(normalize(data), out)
    return "".join(out).encode("utf-8")


def manifest_digest(data: Any) -> dict[str, str]:
    """``{"sha256": hex}`` of the canonical form: equal for equal manifests, whatever the format."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return {"sha256": hashlib.sha256(canonical_json(data)).hexdigest()}

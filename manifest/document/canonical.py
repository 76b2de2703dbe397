"""The canonical form of a manifest and its digest: RFC 8785 (JSON Canonicalization Scheme), except
that a parameter's number is written as its text form (spec 8.2, 13.1).

JCS writes ``1.0`` as ``1``, so params ``{"lr": 1}`` and ``{"lr": 1.0}`` would share a digest although
an import records them as ``"1"`` and ``"1.0"``: two manifests that import differently must not be one
manifest revision. The text form is what the tracking system stores, so it is what identifies the value.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from ..core.params import param_text
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
    elif type(v) is _Token:
        out.append(str(v))
    elif v is None or isinstance(v, (bool, str)):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, (int, float)):
        out.append(_es_number(v))
    else:
        raise TypeError(f"not a JSON value: {type(v).__name__}")


def _params_as_text(data: Any) -> Any:
    """A shallow copy of ``data`` whose parameter numbers (``params``, ``models[].params``) are
    :class:`_Token` objects holding their text forms; nothing else changes."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    if isinstance(out.get("params"), dict):
        out["params"] = _tokens(out["params"])
    if isinstance(out.get("models"), list):
        out["models"] = [{**m, "params": _tokens(m["params"])} if isinstance(m, dict) and isinstance(m.get("params"), dict) else m for m in out["models"]]
    return out


class _Token(str):
    """A number token written as it stands (a parameter's text form), not as ECMAScript would."""


def _tokens(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _Token(param_text(v)) if isinstance(v, float) and math.isfinite(v) else v for k, v in params.items()}


def canonical_json(data: Any) -> bytes:
    """The canonical bytes of a manifest: RFC 8785, with parameter numbers as their text forms."""
    out: list[str] = []
    _jcs(_params_as_text(normalize(data)), out)
    return "".join(out).encode("utf-8")


def manifest_digest(data: Any) -> dict[str, str]:
    """``{"sha256": hex}`` of the canonical form: equal for equal manifests, whatever the format."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return {"sha256": hashlib.sha256(canonical_json(data)).hexdigest()}

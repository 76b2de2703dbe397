"""The credentials rule (spec 11.2, 15.3): no URI in a manifest carries a secret, whether a field
is a URI or a URI stands inside a free string (an argument, a parameter, a tag, a description)."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem
from ...core.uris import embedded_secret, uri_secret


def uris(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    src = (d.get("provenance") or {}).get("source") or {}
    for k in ("tracking_uri", "run_url"):
        if k in src:
            yield f"/provenance/source/{k}", src[k]
    code = d.get("code") or {}
    if "repository" in code:
        yield "/code/repository", code["repository"]
    for i, inp in enumerate(d.get("data") or []):
        if "uri" in inp:
            yield f"/data/{i}/uri", inp["uri"]
    for i, a in enumerate(d.get("artifacts") or []):
        if "uri" in a:
            yield f"/artifacts/{i}/uri", a["uri"]
    for i, m in enumerate(d.get("models") or []):
        if "uri" in m:
            yield f"/models/{i}/uri", m["uri"]


def texts(d: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Free strings that may hold a URI: (pointer, value), values of any type (non-strings skipped)."""
    yield "/description", d.get("description")
    prov = d.get("provenance") or {}
    yield "/provenance/created_by/url", (prov.get("created_by") or {}).get("url")
    yield from _map("/provenance/source/system_tags", (prov.get("source") or {}).get("system_tags"))
    yield "/citation/url", (d.get("citation") or {}).get("url")
    yield from _map("/params", d.get("params"))
    yield from _map("/tags", d.get("tags"))
    code = d.get("code") or {}
    for key in ("command", "command_template"):
        for i, arg in enumerate(code.get(key) or []):
            yield f"/code/{key}/{i}", arg
    yield from _map("/environment/variables", (d.get("environment") or {}).get("variables"))
    for i, inp in enumerate(d.get("data") or []):
        yield f"/data/{i}/description", inp.get("description")
        yield f"/data/{i}/tracking/source", (inp.get("tracking") or {}).get("source")
        yield from _map(f"/data/{i}/tracking/tags", (inp.get("tracking") or {}).get("tags"))
    for i, m in enumerate(d.get("models") or []):
        yield from _map(f"/models/{i}/params", m.get("params"))
        yield from _map(f"/models/{i}/tags", m.get("tags"))


def _map(ptr: str, m: Any) -> Iterator[tuple[str, Any]]:
    for k, v in (m or {}).items() if isinstance(m, dict) else ():
        yield ptr + join_pointer([k]), v


def credentials(d: dict[str, Any]) -> Iterator[Problem]:
    for ptr, uri in uris(d):
        why = uri_secret(uri)
        if why:
            yield Problem("credentials-in-uri", f"URI {why}; remove credentials before sharing a manifest", ptr)
    for ptr, text in texts(d):
        why = embedded_secret(text) if isinstance(text, str) else None
        if why:
            yield Problem("credentials-in-uri", f"a URI in this text {why}; remove credentials before sharing a manifest", ptr)

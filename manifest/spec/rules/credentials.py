"""The credentials rule (spec 11.2, 15.3): no URI in a manifest carries a secret."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem
from ...core.uris import uri_secret


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


def credentials(d: dict[str, Any]) -> Iterator[Problem]:
    for ptr, uri in uris(d):
        why = uri_secret(uri)
        if why:
            yield Problem("credentials-in-uri", f"URI {why}; remove credentials before sharing a manifest", ptr)

"""The credentials rule (spec 11.2, 15.3): no URI in a manifest carries a secret, whether a field
is a URI or a URI stands inside a free string (an argument, a parameter, a tag, a description);
and the warning on recorded environment variables whose names suggest a secret (spec 11.3)."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem
from ...core.uris import embedded_secret, uri_secret

#: Spec 11.3: parts of a variable name (compared case-insensitively) that suggest it holds a secret.
SECRET_NAME_PARTS = ("token", "secret", "passw", "credential", "api_key", "private", "auth")


def uris(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    src = (d.get("provenance") or {}).get("source") or {}
    for k in ("tracking_uri", "run_url"):
        if k in src:
            yield f"/provenance/source/{k}", src[k]
    code = d.get("code") or {}
    if "repository" in code:
        yield "/code/repository", code["repository"]
    for i, inp in enumerate(d.get("data") or []):
        for key in ("uri", "landing_page"):
            if key in inp:
                yield f"/data/{i}/{key}", inp[key]
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
    """The members of a mapping whose values could hold a URI (a pointer is built only for those:
    a manifest may have a million tags)."""
    for k, v in m.items() if isinstance(m, dict) else ():
        if isinstance(v, str) and "://" in v:
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


def secret_variables(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``secret-like-variable`` (spec 11.3): writers should skip a variable whose name
    suggests a secret even when an allow-list names it, since its value cannot be checked for one.
    Environment variables are recorded in ``environment.variables`` and among the determinism
    settings."""
    env = d.get("environment") or {}
    places = (("environment", "variables"), env.get("variables")), (("environment", "determinism", "settings"), (env.get("determinism") or {}).get("settings"))
    for tokens, names in places:
        for name in names if isinstance(names, dict) else ():
            part = next((p for p in SECRET_NAME_PARTS if p in name.lower()), None)
            if part:
                yield Problem("secret-like-variable", f"variable {name!r} has {part!r} in its name, which suggests a secret; writers should not record it (spec 11.3)", join_pointer([*tokens, name]))

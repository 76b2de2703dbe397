"""A manifest's run as an in-toto Statement v1 with a SLSA Provenance v1 predicate.

The subjects are what the run produced (the model files, with the digests the manifest recorded);
the predicate says how: the parameters and command (``externalParameters``), the environment
(``internalParameters``) and every input that has a digest or a URI (``resolvedDependencies``).
Manifest digest sets use in-toto's algorithm names (``sha256``, ``dirHash``, ...), so they are
copied as they are.

The function is pure: the statement depends only on its arguments, never on the clock, the host or
the user, so an anonymised manifest gives an anonymous statement and the same manifest the same
statement. Fields that could name a person or a machine's user (``run.user``,
``environment.python.executable``, ``provenance.source.tracking_uri``) are never copied.
Signing the statement (DSSE) is the caller's business.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ..core.names import normalize_name
from ..core.uris import strip_credentials
from ..document.writer import normalize

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
#: The build type this module writes; its parameters are documented in the spec (interop section).
BUILD_TYPE = "https://experiment-manifest.org/buildtypes/ml-run/v1"
#: ``builder.id`` is this prefix and the tracking system's name (``local`` without one).
BUILDER_BASE = "https://experiment-manifest.org/builders/"
#: Prefix of our annotation names (in-toto: ``<vendor>_<field>``, as for extension fields).
ANNOTATION = "experimentmanifest_"

Digest = dict[str, str]
Descriptor = dict[str, Any]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+")
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>\"{}|\\^`]")


def resource_uri(text: Any) -> str | None:
    """``text`` as an in-toto ResourceURI (absolute, credentials removed, scheme and host in
    lowercase as in-toto requires), or ``None`` when it is no absolute URI (a relative path, an
    scp-like ``git@host:path``, free text): a descriptor must not claim a URI it does not have."""
    if not isinstance(text, str) or not text.isascii() or _UNSAFE.search(text):
        return None
    try:
        parts = urlsplit(strip_credentials(text))
    except ValueError:
        return None
    if not _SCHEME.fullmatch(parts.scheme or "") or not (parts.netloc or parts.path):
        return None  # one-letter schemes are drive letters (C:/data)
    user, at, host = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme.lower(), f"{user}{at}{host.lower()}", parts.path, parts.query, parts.fragment))


def pypi_purl(name: str, version: str) -> str:
    """The Package URL of a PyPI distribution: ``pkg:pypi/<normalised name>@<version>``, both
    percent-encoded (a local version's ``+`` becomes ``%2B``)."""
    return f"pkg:pypi/{quote(normalize_name(name), safe='')}@{quote(version, safe='')}"


def _present(d: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    """The members ``keys`` names that ``d`` has, under their new names (camelCase for SLSA)."""
    return {new: d[old] for old, new in keys.items() if d.get(old) not in (None, "", [], {})}


def _descriptor(name: str, *, uri: str | None = None, digest: Any = None, media_type: Any = None, annotations: dict[str, Any] | None = None) -> Descriptor | None:
    """A ResourceDescriptor, or ``None`` when it would have neither URI nor digest (in-toto requires
    one of ``uri``, ``digest``, ``content``; a name alone is not enough)."""
    rd: Descriptor = {"name": name}
    if uri:
        rd["uri"] = uri
    if isinstance(digest, dict) and digest:
        rd["digest"] = {str(k): str(v) for k, v in digest.items()}
    if len(rd) == 1:
        return None
    if isinstance(media_type, str) and media_type:
        rd["mediaType"] = media_type
    notes = {f"{ANNOTATION}{k}": v for k, v in (annotations or {}).items() if v not in (None, "")}
    if notes:
        rd["annotations"] = notes
    return rd


# --------------------------------------------------------------------------- subjects


def model_subjects(manifest: dict[str, Any]) -> list[Descriptor]:
    """One subject per model file (``models/<model>/<path>`` with the file's digests), or one per
    model when only its directory digest (``dirHash``) is known."""
    out: list[Descriptor] = []
    for model in manifest.get("models") or []:
        name = f"models/{model.get('name', '')}"
        files = model.get("files") or []
        if files:
            out += [rd for f in files if (rd := _descriptor(f"{name}/{f.get('path', '')}", digest=f.get("digest")))]
        elif (model.get("digest") or {}).get("dirHash"):
            rd = _descriptor(name, uri=resource_uri(model.get("uri")), digest={"dirHash": model["digest"]["dirHash"]})
            out += [rd] if rd else []
    return out


# --------------------------------------------------------------------------- build definition


def external_parameters(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the person who started the run chose: the typed params, the repository and branch, and
    the command (as run and as a template), its working directory and entry point."""
    code = manifest.get("code") or {}
    out: dict[str, Any] = {}
    if isinstance(manifest.get("params"), dict):
        out["params"] = dict(manifest["params"])
    if isinstance(code.get("repository"), str):
        out["repository"] = strip_credentials(code["repository"])
    out.update(_present(code, {"branch": "branch", "working_directory": "workingDirectory", "entry_point": "entryPoint", "command": "command", "command_template": "commandTemplate"}))
    return out


def internal_parameters(manifest: dict[str, Any]) -> dict[str, Any]:
    """The environment the run found: interpreter, platform, container, hardware, seeds, determinism
    and the allow-listed environment variables (never the interpreter's path, which names a home)."""
    env = manifest.get("environment") or {}
    out: dict[str, Any] = {}
    python = {k: v for k, v in (env.get("python") or {}).items() if k != "executable"}
    if python:
        out["python"] = python
    if env.get("container"):
        out["container"] = _present(env["container"], {"image": "image", "runtime": "runtime"})
    out.update(_present(env, {"platform": "platform", "hardware": "hardware", "seeds": "seeds", "determinism": "determinism", "variables": "variables"}))
    return out


def _code_dependencies(code: dict[str, Any]) -> list[Descriptor | None]:
    repo = resource_uri(code.get("repository"))
    if repo and not repo.startswith("git+"):
        repo = f"git+{repo}"
    commit = {"gitCommit": code["commit"]} if code.get("commit") else None
    given = code.get("repository")
    out = [_descriptor("code", uri=repo, digest=commit, annotations={"repository": strip_credentials(given)} if isinstance(given, str) and not repo else None)]
    diff = code.get("diff") or {}
    out.append(_descriptor("code/diff", digest={**(code.get("diff_digest") or {}), **(diff.get("digest") or {})}, media_type=diff.get("media_type") or "text/x-diff"))
    for kind in ("config_files", "untracked_files"):
        out += [_descriptor(f"code/{kind.split('_')[0]}/{f.get('path', '')}", digest=f.get("digest"), media_type=f.get("media_type")) for f in code.get(kind) or []]
    return out


def _data_dependencies(data: list[dict[str, Any]]) -> list[Descriptor | None]:
    """Each input with stored bytes (``kind: memory`` ones have none: their source input is listed)."""
    out: list[Descriptor | None] = []
    for inp in data:
        if inp.get("kind") == "memory":
            continue
        uri = resource_uri(inp.get("uri"))
        local = None if uri else inp.get("uri")
        out.append(_descriptor(f"data/{inp.get('name', '')}", uri=uri, digest=inp.get("digest"), media_type=inp.get("media_type"), annotations={"role": inp.get("role"), "location": local}))
    return out


def _environment_dependencies(env: dict[str, Any]) -> list[Descriptor | None]:
    lock = env.get("lockfile") or {}
    container = env.get("container") or {}
    out = [
        _descriptor("environment/lockfile", digest=lock.get("digest"), annotations={"path": lock.get("path"), "format": lock.get("format")}),
        _descriptor("environment/container", digest=container.get("digest"), annotations={"image": container.get("image")}),
    ]
    packages = env.get("packages") or {}
    out += [_descriptor(f"environment/packages/{name}", uri=pypi_purl(name, str(version))) for name, version in sorted(packages.items())]
    return out


def resolved_dependencies(manifest: dict[str, Any]) -> list[Descriptor]:
    """The inputs with a digest or a URI: the commit, the diff, config and untracked files, data,
    lock file, container image, Python packages (as purls), and the manifest a run reproduced."""
    deps = _code_dependencies(manifest.get("code") or {})
    deps += _data_dependencies(manifest.get("data") or [])
    deps += _environment_dependencies(manifest.get("environment") or {})
    derived = (manifest.get("provenance") or {}).get("derived_from") or {}
    if derived:
        deps.append(_descriptor("derived-from", uri=resource_uri(derived.get("id")), digest=derived.get("digest"), annotations={"relation": derived.get("relation")}))
    return [d for d in deps if d]


# --------------------------------------------------------------------------- run details


def run_details(manifest: dict[str, Any], byproducts: list[Descriptor] | None = None) -> dict[str, Any]:
    """Who recorded the run (the tracking system, with its and the writer's versions), the source
    run id as ``invocationId``, the run's start and end, and the artifacts as byproducts."""
    prov = manifest.get("provenance") or {}
    source = prov.get("source") or {}
    system = str(source.get("system") or "local")
    versions: dict[str, str] = {}
    if source.get("system_version"):
        versions[system] = str(source["system_version"])
    tool = prov.get("created_by") or {}
    if tool.get("name") and tool.get("version"):
        versions.setdefault(str(tool["name"]), str(tool["version"]))
    builder: dict[str, Any] = {"id": BUILDER_BASE + quote(system, safe="")}
    if versions:
        builder["version"] = versions
    out: dict[str, Any] = {"builder": builder}
    run = manifest.get("run") or {}
    metadata = {**_present(source, {"run_id": "invocationId"}), **_present(run, {"start_time": "startedOn", "end_time": "finishedOn"})}
    if metadata:
        out["metadata"] = metadata
    made = [_descriptor(f"artifacts/{a.get('path', '')}", uri=resource_uri(a.get("uri")), digest=a.get("digest"), media_type=a.get("media_type")) for a in manifest.get("artifacts") or []]
    made = [d for d in made if d] + list(byproducts or [])
    if made:
        out["byproducts"] = made
    return out


# --------------------------------------------------------------------------- the statement


def statement(manifest: dict[str, Any], *, subjects: list[tuple[str, dict[str, str]]] | None = None, manifest_ref: tuple[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The in-toto Statement v1 (SLSA Provenance v1 predicate) of the run ``manifest`` describes.

    ``subjects`` replaces the default subjects (the model files) with ``(name, digest set)`` pairs.
    ``manifest_ref`` is the manifest file as ``(name, digest set)``, e.g. its path in a bundle and
    the digest of its bytes: the subject when there is no model, a byproduct otherwise. Raises
    :class:`ValueError` when no subject with a digest results, since in-toto requires one.
    """
    ref = _descriptor(manifest_ref[0], digest=manifest_ref[1]) if manifest_ref else None
    if subjects is not None:
        subject = [{"name": name, "digest": dict(digest)} for name, digest in subjects]
    else:
        subject = model_subjects(manifest)
    byproducts = [ref] if ref and subject else []
    if not subject and ref:
        subject = [ref]
    if not subject:
        raise ValueError("an in-toto statement needs a subject: the manifest has no model with digests; pass manifest_ref (the manifest file's name and digest)")
    empty = [s["name"] for s in subject if not s.get("digest")]
    if empty:
        raise ValueError(f"every subject of an in-toto statement needs a digest; these have none: {empty}")
    build = {"buildType": BUILD_TYPE, "externalParameters": external_parameters(manifest)}
    internal = internal_parameters(manifest)
    if internal:
        build["internalParameters"] = internal
    deps = resolved_dependencies(manifest)
    if deps:
        build["resolvedDependencies"] = deps
    predicate = {"buildDefinition": build, "runDetails": run_details(manifest, byproducts)}
    return normalize({"_type": STATEMENT_TYPE, "subject": subject, "predicateType": PREDICATE_TYPE, "predicate": predicate})

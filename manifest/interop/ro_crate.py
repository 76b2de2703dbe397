"""A bundle of runs, or one manifest, as the ``ro-crate-metadata.json`` of an RO-Crate 1.1 that
conforms to the Process Run Crate profile 0.5: every file a data entity of the root, every run a
``CreateAction``.

Why these versions: roc-validator checks the Process Run Crate profile 0.5
(``https://w3id.org/ro/wfrun/process/0.5``), which is a profile of RO-Crate 1.1 and of no later
version, so the crate is a 1.1 crate (``@context`` the 1.1 context, descriptor ``conformsTo``
``https://w3id.org/ro/crate/1.1``) and its root ``conformsTo`` the profile.

A run becomes one ``CreateAction`` (``@id`` ``#run-<name>-<hash>``, listed in the root's
``mentions``):

- ``instrument``: the code. The bundle's source archive when it has one (a data entity typed
  ``File`` and ``SoftwareSourceCode``, which the profile allows), else a ``SoftwareSourceCode``
  contextual entity with the repository (``codeRepository``, ``url``) and the commit (``version``).
  Its ``@id`` is local because a clone URL names no commit; the profile only RECOMMENDS an
  absolute one.
- ``object``: the data inputs (the bundle's copy when there is one, with the URI the run read as
  ``alternateName``; else a contextual entity with that URI), shipped configuration files and the
  uncommitted-changes diff, and every parameter as a ``PropertyValue`` (the profile's way to give
  inputs that are not files). An input of kind ``memory`` split from another input is left out: it
  was made inside the run from an input that is listed, and the manifest records the split.
- ``result``: the models and artifacts (bundle directories or files when copied, else contextual
  entities with their ids and ``models:/`` URIs), shipped metric histories, and every metric's
  final value as a ``PropertyValue``.
- ``agent``: the manifest's authors (``Person`` or ``Organization``; an ORCID iD is the ``@id``);
  absent when it has none. ``run.user`` is never copied.
- ``startTime``/``endTime`` with the offset written ``+00:00`` (the profile's pattern refuses
  ``Z``), ``actionStatus`` (FINISHED: Completed; FAILED and KILLED: Failed, with an ``error`` that
  says which; RUNNING: Active; SCHEDULED: Potential) and ``description`` (the manifest's, and the
  command).
- ``environment``: the recorded environment variables, as ``PropertyValue`` (the profile defines
  ``environment`` for variables only, so Python, platform and packages are not mapped: they stay in
  the manifest, which the crate holds); ``containerImage`` for ``environment.container``.
- ``subjectOf``: the manifest file (and the in-toto statement), which point back with ``about``:
  both are works about the run, neither was made by it.

The terms the profile takes from the workflow-run vocabulary (``environment``, ``containerImage``,
``sha256``...) are mapped in an inline context to the IRIs that vocabulary's context gives them, so
a reader needs no second remote context.

Pure: the dict depends only on the arguments (no clock, host, user or file system), so an
anonymised bundle gets an anonymous crate and the same input the same crate; lists whose order
means nothing are sorted. Local ``@id``\\ s are slugs with a hash of the text they come from, and
file ``@id``\\ s are percent-encoded paths, so no manifest text can break or collide with them.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..core.reals import json_real
from ..core.uris import strip_credentials
from ..core.versions import KNOWN_VERSIONS, schema_id
from ..spec.rules.paths import relative_path_problem
from .patterns import ORCID, SPDX_ID

RO_CRATE_VERSION = "1.1"
RO_CRATE = f"https://w3id.org/ro/crate/{RO_CRATE_VERSION}"
RO_CRATE_CONTEXT = f"{RO_CRATE}/context"
PROFILE_VERSION = "0.5"
PROFILE = f"https://w3id.org/ro/wfrun/process/{PROFILE_VERSION}"
WFRUN = "https://w3id.org/ro/terms/workflow-run#"
#: Terms of the workflow-run vocabulary this module writes (the RO-Crate 1.1 context lacks them).
WFRUN_TERMS = ("ContainerImage", "containerImage", "environment", "registry", "sha256", "tag")
#: The crate's ``@context``: the RO-Crate 1.1 context, then those terms as the workflow-run context maps them.
CONTEXT: tuple[str, dict[str, str]] = (RO_CRATE_CONTEXT, {t: WFRUN + t for t in WFRUN_TERMS})
METADATA_FILE = "ro-crate-metadata.json"
SCHEMA = "http://schema.org/"
SPDX = "https://spdx.org/licenses/"
#: run.status -> schema.org ActionStatusType
STATUS = {"FINISHED": "CompletedActionStatus", "FAILED": "FailedActionStatus", "KILLED": "FailedActionStatus", "RUNNING": "ActiveActionStatus", "SCHEDULED": "PotentialActionStatus"}
#: The root's license when none is given (RO-Crate 1.1 requires one; a text is allowed).
NO_LICENSE = "No license is given for the crate as a whole; each manifest file states its run's license where its manifest names one."

#: Media types by file-name ending, for files whose type the caller does not give (a fixed table:
#: the ``mimetypes`` module reads the host's files, and the crate must not depend on the host).
MEDIA_TYPES = (
    (".intoto.json", "application/vnd.in-toto+json"), (".cdx.json", "application/vnd.cyclonedx+json"),
    (".tar.gz", "application/gzip"), (".tgz", "application/gzip"), (".gz", "application/gzip"), (".zip", "application/zip"),
    (".jsonld", "application/ld+json"), (".json", "application/json"), (".yaml", "application/yaml"), (".yml", "application/yaml"),
    (".cff", "application/yaml"), (".md", "text/markdown"), (".tex", "application/x-tex"), (".html", "text/html"),
    (".png", "image/png"), (".svg", "image/svg+xml"), (".pdf", "application/pdf"), (".csv", "text/csv"),
    (".tsv", "text/tab-separated-values"), (".txt", "text/plain"), (".diff", "text/x-diff"), (".patch", "text/x-diff"),
    (".py", "text/x-python"), (".parquet", "application/vnd.apache.parquet"), (".sig", "application/octet-stream"),
)  # fmt: skip
MEDIA_BY_NAME = {"SHA256SUMS": "text/plain", "MLmodel": "application/yaml", "LICENSE": "text/plain"}
#: When nothing is known: arbitrary bytes, which every file is.
DEFAULT_MEDIA_TYPE = "application/octet-stream"

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_MEDIA = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP_Z = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?)Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class CrateFile:
    """A file of the bundle, with its measured size and SHA-256."""

    path: str  # POSIX, relative to the bundle root
    size: int
    sha256: str
    media_type: str | None = None


@dataclass(frozen=True)
class CrateRun:
    """One run of the bundle and where its parts lie in it (bundle paths; directories end with ``/``)."""

    manifest_path: str
    manifest: dict[str, Any]
    code_archive: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    attestation: str | None = None


@dataclass(frozen=True)
class _Entry:
    """A file (or, ending with ``/``, a directory) of the crate, whatever is known of it."""

    path: str
    size: int | None = None
    sha256: str | None = None
    media_type: str | None = None


# --------------------------------------------------------------------------- identifiers and values


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def local_id(kind: str, key: Any, label: str | None = None) -> str:
    """A local ``@id`` ``#<kind>-<slug>-<hash>``: the slug of ``label`` keeps it readable, the hash
    of ``key`` keeps it unique, so names that slug alike (or not at all) still differ."""
    digest = hashlib.sha256(json.dumps([kind, key], ensure_ascii=True, sort_keys=True, default=str).encode("ascii")).hexdigest()[:10]
    slug = _SLUG.sub("-", label or "").strip("-.")[:48].strip("-.") or kind
    return f"#{kind}-{slug}-{digest}"


def path_id(path: str) -> str:
    """The ``@id`` of a crate file or directory: its path percent-encoded, so that a space, ``#``,
    ``%``, ``:`` or any non-ASCII letter in a name cannot change what the reference means."""
    return quote(path, safe="/")


def _safe_path(path: Any, *, directory: bool = False) -> str:
    """``path`` if it is a safe relative POSIX path (a directory ends with ``/``); else ``ValueError``."""
    bare = path[:-1] if directory and isinstance(path, str) and path.endswith("/") else path
    why = relative_path_problem(bare) if isinstance(bare, str) and bare else "is empty"
    if why is None and "." in bare.split("/"):
        why = "has a '.' segment"
    if why:
        raise ValueError(f"crate path {path!r} {why}")
    return bare + "/" if directory else bare


def _under(base: str, rel: Any) -> str | None:
    """``rel`` (a manifest-relative path from the manifest) resolved against the manifest's
    directory ``base``, or ``None`` when it is not a safe relative path."""
    if not isinstance(rel, str) or not rel or relative_path_problem(rel) or "." in rel.split("/"):
        return None
    return posixpath.join(base, rel) if base else rel


def media_type_of(path: str) -> str:
    """The media type of a file by its name (a fixed table, :data:`DEFAULT_MEDIA_TYPE` otherwise)."""
    name = path.rsplit("/", 1)[-1]
    if name in MEDIA_BY_NAME:
        return MEDIA_BY_NAME[name]
    return next((t for end, t in MEDIA_TYPES if name.lower().endswith(end)), DEFAULT_MEDIA_TYPE)


def _media(v: Any) -> str | None:
    """A media type from a manifest, if it has the form ``type/subtype``."""
    return v if isinstance(v, str) and _MEDIA.fullmatch(v) else None


def _sha256(digest: Any) -> str | None:
    v = digest.get("sha256") if isinstance(digest, dict) else None
    return v if isinstance(v, str) and _SHA256.fullmatch(v) else None


def _size(v: Any) -> str | None:
    """A size as RO-Crate writes ``contentSize`` (schema.org Text: the byte count)."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def iso_time(ts: Any) -> str | None:
    """A manifest Timestamp with its ``Z`` written ``+00:00``, the form the profile's pattern accepts."""
    if not isinstance(ts, str):
        return None
    m = _TIMESTAMP_Z.fullmatch(ts)
    return f"{m.group(1)}+00:00" if m else ts


def _http_url(v: Any) -> str | None:
    """``v`` without credentials if it is an http(s) URL (a homepage or source a person can open)."""
    if not isinstance(v, str):
        return None
    try:
        parts = urlsplit(v)
    except ValueError:
        return None
    return strip_credentials(v) if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"[\s<>\"]", v) else None


def _is_absolute_uri(v: str) -> bool:
    try:
        scheme = urlsplit(v).scheme
    except ValueError:
        return False
    return len(scheme) > 1  # one letter is a drive (C:/data)


def _value(v: Any) -> Any:
    """A parameter or metric value as JSON-LD can hold it (non-finite floats as their manifest strings)."""
    return json_real(v) if isinstance(v, (int, float, str, bool)) else None


def _clean(entity: dict[str, Any]) -> dict[str, Any]:
    """Empty values dropped, and one-item lists written as the item (RO-Crate 1.1 compacted form)."""
    out = {}
    for k, v in entity.items():
        if isinstance(v, list):
            v = [x for x in v if x not in (None, "", {}, [])]
            v = v[0] if len(v) == 1 else v
        if v not in (None, "", [], {}):
            out[k] = v
    return out


def _types(entity: dict[str, Any]) -> list[str]:
    t = entity.get("@type", [])
    return [t] if isinstance(t, str) else list(t)


def _by_name(item: tuple[Any, Any]) -> str:
    """Sort key of a map's items: the name as text (a YAML map may have keys of several types)."""
    return str(item[0])


def _refs(ids: Any) -> list[dict[str, str]]:
    return [{"@id": i} for i in sorted(set(ids))]


class _Graph:
    """Entities by ``@id``. Adding one again merges them (types are united, the first value of a
    property is kept), so a shared file, program or person appears once; the builders add in a
    fixed order, so the result is the same for the same input."""

    def __init__(self) -> None:
        self.entities: dict[str, dict[str, Any]] = {}

    def add(self, entity: dict[str, Any]) -> str:
        entity = _clean(entity)
        eid = entity["@id"]
        old = self.entities.get(eid)
        if old is None:
            self.entities[eid] = entity
            return eid
        types = _types(old) + [t for t in _types(entity) if t not in _types(old)]
        for k, v in entity.items():
            old.setdefault(k, v)
        old["@type"] = types[0] if len(types) == 1 else types
        return eid


# --------------------------------------------------------------------------- the builder


class _Crate:
    """The entities of one crate, built from its files and runs."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.g = _Graph()
        self.parts: set[str] = set()
        self.files = {e.path for e in entries if not e.path.endswith("/")}
        self.dirs = {d for p in self.files for d in _ancestors(p)} | {e.path for e in entries if e.path.endswith("/")}
        for e in sorted(entries, key=lambda e: e.path):
            if e.path.endswith("/"):
                self.directory(e.path)
            else:
                self.file(e.path, {"contentSize": _size(e.size), "sha256": e.sha256, "encodingFormat": e.media_type})

    def finish(self) -> None:
        """Names and media types for the data entities nothing more specific described: the
        defaults come last, so that what a caller or a manifest says wins over a file's name."""
        for eid in self.parts:
            entity = self.g.entities[eid]
            entity.setdefault("name", unquote(eid.rstrip("/")).rsplit("/", 1)[-1])
            if "File" in _types(entity):
                entity.setdefault("encodingFormat", media_type_of(unquote(eid)))

    # ------------------------------------------------------------- data entities

    def file(self, path: str, props: dict[str, Any] | None = None) -> str:
        """The data entity of the crate file ``path`` (created if new), with ``props`` added."""
        eid = path_id(path)
        self.parts.add(eid)
        return self.g.add({"@id": eid, "@type": "File", **(props or {})})

    def directory(self, path: str, props: dict[str, Any] | None = None) -> str:
        """The ``Dataset`` of the crate directory ``path`` (ending with ``/``), listing the files below it."""
        eid = path_id(path)
        self.parts.add(eid)
        below = [path_id(f) for f in self.files if f.startswith(path)]
        return self.g.add({"@id": eid, "@type": "Dataset", "hasPart": _refs(below), **(props or {})})

    def shipped_file(self, base: str, rel: Any) -> str | None:
        """The crate file a manifest-relative ``rel`` names, if the crate holds it."""
        path = _under(base, rel)
        return path if path in self.files else None

    def shipped_dir(self, base: str, rel: Any) -> str | None:
        """The crate directory a manifest-relative ``rel`` names, if the crate holds files in it."""
        path = _under(base, rel)
        return path + "/" if path and path + "/" in self.dirs else None

    def bundle_path(self, path: str, props: dict[str, Any]) -> str:
        """A run's part at a bundle path given by the caller: a directory if it ends with ``/``."""
        if path.endswith("/"):
            return self.directory(_safe_path(path, directory=True), props)
        return self.file(_safe_path(path), props)

    # ------------------------------------------------------------- contextual entities

    def license(self, expr: Any) -> dict[str, str] | None:
        """An SPDX license id as its license-list page; any other expression as a local entity."""
        expr = _text(expr)
        if expr is None:
            return None
        if SPDX_ID.fullmatch(expr) and not expr.startswith(("LicenseRef-", "DocumentRef-")):
            eid = self.g.add({"@id": SPDX + expr, "@type": "CreativeWork", "name": expr, "identifier": expr, "description": f"The license with the SPDX identifier {expr}."})
        else:
            eid = self.g.add({"@id": local_id("license", expr, expr), "@type": "CreativeWork", "name": expr, "description": f"The SPDX license expression {expr}."})
        return {"@id": eid}

    def person(self, author: Any) -> dict[str, str] | None:
        """A manifest Author as a ``Person`` (or ``Organization``), with its affiliation as an ``Organization``."""
        if not isinstance(author, dict) or not _text(author.get("name")):
            return None
        orcid = _text(author.get("orcid"))
        key = {k: author.get(k) for k in ("name", "type", "given_name", "family_name", "orcid", "affiliation", "email")}
        eid = orcid if orcid and ORCID.fullmatch(orcid) else local_id("person", key, author["name"])
        affiliation = _text(author.get("affiliation"))
        org = self.g.add({"@id": local_id("organization", affiliation, affiliation), "@type": "Organization", "name": affiliation}) if affiliation else None
        kind = "Organization" if author.get("type") == "organization" else "Person"
        person = {"@id": eid, "@type": kind, "name": author["name"], "givenName": _text(author.get("given_name")), "familyName": _text(author.get("family_name"))}
        return {"@id": self.g.add({**person, "affiliation": {"@id": org} if org else None})}

    def property_value(self, kind: str, run: CrateRun, name: str, value: Any, description: str | None = None) -> dict[str, str]:
        pv: dict[str, Any] = {"@id": local_id(kind, [run.manifest_path, name], name), "@type": "PropertyValue", "name": name, "description": description}
        if value is None:
            pv["description"] = description or "null: given no value"
        else:
            pv["value"] = _value(value)
        return {"@id": self.g.add(pv)}


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# --------------------------------------------------------------------------- one run


def _code_name(code: dict[str, Any], repo: str | None, commit: str | None, run_name: str) -> str:
    base = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git") if repo else None
    base = base or _text(code.get("entry_point")) or _text(code.get("source_name"))
    if base and commit:
        return f"{base} at commit {commit[:12]}"
    return base or f"The program of run {run_name}"


def _instrument(c: _Crate, run: CrateRun) -> dict[str, str]:
    """The code that ran: the source archive in the crate, else a ``SoftwareSourceCode`` entity."""
    m = run.manifest
    code = m.get("code") if isinstance(m.get("code"), dict) else {}
    repo = _text(code.get("repository"))
    repo = strip_credentials(repo) if repo else None
    commit = _text(code.get("commit"))
    props = {
        "@type": "SoftwareSourceCode", "name": _code_name(code, repo, commit, str(m.get("name"))), "version": commit,
        "codeRepository": repo, "url": _http_url(repo), "license": c.license(code.get("license")),
    }  # fmt: skip
    if run.code_archive:
        eid = c.file(_safe_path(run.code_archive), {"@type": ["File", "SoftwareSourceCode"], **{k: v for k, v in props.items() if k != "@type"}})
        return {"@id": eid}
    if repo or commit:
        key: Any = [repo, commit, code.get("dirty") is True]
        dirty = "with uncommitted changes (the manifest's code.diff) " if code.get("dirty") is True else ""
        desc = f"The source code {dirty}at commit {commit} of {repo or 'an unrecorded repository'}." if commit else f"The source code in {repo}; the manifest records no commit."
    else:
        key, desc = [run.manifest_path], "The program of this run; its manifest records no repository or commit."
    return {"@id": c.g.add({"@id": local_id("code", key, props["name"]), **props, "description": desc})}


def _input_kind(inp: dict[str, Any]) -> str | None:
    kind = inp.get("kind")
    if kind in ("file", "directory", "memory"):
        return kind
    digest = inp.get("digest")
    if isinstance(digest, dict) and digest:
        return "directory" if "dirHash" in digest else "file"
    return None


def _data_input(c: _Crate, run: CrateRun, inp: Any) -> dict[str, str] | None:
    """One data input: its copy in the crate, else a contextual entity; ``None`` for an input made
    in memory by splitting another (the source is listed, the manifest records the split)."""
    name = _text(inp.get("name")) if isinstance(inp, dict) else None
    kind = _input_kind(inp) if name else None
    if name is None or (kind == "memory" and isinstance(inp.get("split"), dict)):
        return None
    uri = _text(inp.get("uri"))
    uri = strip_credentials(uri) if uri else None
    props = {
        "name": name, "description": _text(inp.get("description")), "version": _text(inp.get("version")),
        "url": _http_url(inp.get("landing_page")), "license": c.license(inp.get("license")),
        "creator": [c.person(a) for a in inp.get("creators") or [] if isinstance(inp.get("creators"), list)],
    }  # fmt: skip
    copy = run.data.get(name)
    if isinstance(copy, str):
        return {"@id": c.bundle_path(copy, {**props, "alternateName": uri, "encodingFormat": None if copy.endswith("/") else _media(inp.get("media_type"))})}
    absolute = bool(uri) and _is_absolute_uri(uri)
    entity = {
        "@id": local_id("data", [run.manifest_path, name], name), "@type": {"file": "File", "directory": "Dataset"}.get(kind or "", "CreativeWork"),
        **props, "alternateName": None if absolute else uri, ("contentUrl" if kind == "file" else "identifier"): uri if absolute else None,
        "contentSize": _size(inp.get("size")), "sha256": _sha256(inp.get("digest")) if kind == "file" else None,
        "encodingFormat": _media(inp.get("media_type")) if kind == "file" else None,
    }  # fmt: skip
    return {"@id": c.g.add(entity)}


def _code_files(c: _Crate, run: CrateRun) -> list[str]:
    """Shipped copies of the code's configuration files, untracked files and diff, when the crate holds them."""
    code = run.manifest.get("code") if isinstance(run.manifest.get("code"), dict) else {}
    base = posixpath.dirname(run.manifest_path)
    out = []
    for group in ("config_files", "untracked_files"):
        for f in code.get(group) or [] if isinstance(code.get(group), list) else []:
            path = c.shipped_file(base, f.get("local_path")) if isinstance(f, dict) else None
            if path:
                out.append(c.file(path, {"alternateName": _text(f.get("path"))}))
    diff = code.get("diff")
    path = c.shipped_file(base, diff.get("path")) if isinstance(diff, dict) else None
    if path:
        out.append(c.file(path, {"description": "The uncommitted changes of the working tree (git diff HEAD) when the run started."}))
    return out


def _inputs(c: _Crate, run: CrateRun) -> list[str]:
    m = run.manifest
    ids = [r["@id"] for r in (_data_input(c, run, inp) for inp in m.get("data") or [] if isinstance(m.get("data"), list)) if r]
    ids += _code_files(c, run)
    params = m.get("params") if isinstance(m.get("params"), dict) else {}
    ids += [c.property_value("param", run, str(k), v)["@id"] for k, v in sorted(params.items(), key=_by_name)]
    return ids


def _model(c: _Crate, run: CrateRun, mo: Any) -> str | None:
    """A model: its directory in the crate when copied, else a ``Dataset`` contextual entity."""
    name = _text(mo.get("name")) if isinstance(mo, dict) else None
    if name is None:
        return None
    card = mo.get("card") if isinstance(mo.get("card"), dict) else {}
    props = {"name": name, "identifier": _text(mo.get("id")), "url": strip_credentials(mo["uri"]) if _text(mo.get("uri")) else None, "license": c.license(mo.get("license")), "description": _text(card.get("intended_use"))}
    where = run.models.get(name) if isinstance(run.models.get(name), str) else None
    if where:
        return c.bundle_path(where if where.endswith("/") else where + "/", props)
    shipped = c.shipped_dir(posixpath.dirname(run.manifest_path), mo.get("local_path"))
    if shipped:
        return c.directory(shipped, props)
    return c.g.add({"@id": local_id("model", [run.manifest_path, name], name), "@type": "Dataset", **props, "contentSize": _size(mo.get("size"))})


def _artifact(c: _Crate, run: CrateRun, a: Any) -> str | None:
    """An artifact: its copy in the crate when shipped (``local_path``), else a contextual entity."""
    path = _text(a.get("path")) if isinstance(a, dict) else None
    if path is None:
        return None
    directory = a.get("kind") == "directory" or (isinstance(a.get("digest"), dict) and "dirHash" in a["digest"])
    base = posixpath.dirname(run.manifest_path)
    props = {"name": path, "license": c.license(a.get("license"))}
    shipped = c.shipped_dir(base, a.get("local_path")) if directory else c.shipped_file(base, a.get("local_path"))
    if shipped:
        return c.directory(shipped, props) if directory else c.file(shipped, props)
    uri = strip_credentials(a["uri"]) if _text(a.get("uri")) else None
    entity = {
        "@id": local_id("artifact", [run.manifest_path, path], path), "@type": "Dataset" if directory else "File", **props,
        ("identifier" if directory else "contentUrl"): uri, "contentSize": _size(a.get("size")),
        "sha256": None if directory else _sha256(a.get("digest")), "encodingFormat": None if directory else _media(a.get("media_type")),
    }  # fmt: skip
    return c.g.add(entity)


def _outputs(c: _Crate, run: CrateRun) -> list[str]:
    m = run.manifest
    ids = [i for i in (_model(c, run, mo) for mo in m.get("models") or [] if isinstance(m.get("models"), list)) if i]
    ids += [i for i in (_artifact(c, run, a) for a in m.get("artifacts") or [] if isinstance(m.get("artifacts"), list)) if i]
    metrics = m.get("metrics") if isinstance(m.get("metrics"), dict) else {}
    base = posixpath.dirname(run.manifest_path)
    for name, metric in sorted(metrics.items(), key=_by_name):
        if not isinstance(metric, dict):
            continue
        ids.append(c.property_value("metric", run, str(name), metric.get("value"), _text(metric.get("description")))["@id"])
        history = metric.get("history_file")
        path = c.shipped_file(base, history.get("path")) if isinstance(history, dict) else None
        if path:
            ids.append(c.file(path, {"description": f"The history of metric {name}.", "encodingFormat": "application/json"}))
    return ids


def _container(c: _Crate, container: Any) -> dict[str, str] | None:
    """``environment.container`` as a workflow-run ``ContainerImage`` (registry, name, tag, sha256)."""
    image = _text(container.get("image")) if isinstance(container, dict) else None
    if image is None:
        return None
    ref, _, pinned = image.partition("@")
    first, slash, rest = ref.partition("/")
    registry, name = (first, rest) if slash and ("." in first or ":" in first or first == "localhost") else ("docker.io", ref)
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    sha = _sha256(container.get("digest")) or (pinned[7:] if pinned.startswith("sha256:") and _SHA256.fullmatch(pinned[7:]) else None)
    kind = "SIFImage" if ref.endswith(".sif") else "DockerImage"
    entity = {"@id": local_id("container", [image, sha], name), "@type": "ContainerImage", "additionalType": {"@id": WFRUN + kind}, "name": name, "registry": registry, "tag": tag, "sha256": sha}
    return {"@id": c.g.add(entity)}


def _status(info: dict[str, Any]) -> dict[str, Any]:
    status = info.get("status")
    out: dict[str, Any] = {"actionStatus": SCHEMA + STATUS[status] if status in STATUS else None}
    error = _text(info.get("error"))
    if status == "KILLED":
        out["error"] = "The run was killed before it completed" + (f": {error}" if error else ".")
    elif status == "FAILED":
        out["error"] = error or "The run failed; its manifest records no error message."
    return out


def _description(m: dict[str, Any], manifest_path: str) -> str:
    text = _text(m.get("description")) or f"The run {m.get('name')}, as its manifest {manifest_path} records it."
    code = m.get("code") if isinstance(m.get("code"), dict) else {}
    command = code.get("command")
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        text += f"\nCommand: {shlex.join(command)}"
    return text


def _action(c: _Crate, run: CrateRun) -> str:
    """The run's ``CreateAction`` and every entity it names."""
    m = run.manifest
    name = _text(m.get("name")) or run.manifest_path
    aid = local_id("run", run.manifest_path, name)
    info = m.get("run") if isinstance(m.get("run"), dict) else {}
    env = m.get("environment") if isinstance(m.get("environment"), dict) else {}
    variables = env.get("variables") if isinstance(env.get("variables"), dict) else {}
    subjects = [c.file(_safe_path(run.manifest_path), _manifest_props(c, m, aid, name))]
    if run.attestation:
        subjects.append(c.file(_safe_path(run.attestation), {"name": f"in-toto statement of run {name}", "about": {"@id": aid}, "encodingFormat": "application/vnd.in-toto+json"}))
    action = {
        "@id": aid, "@type": "CreateAction", "name": name, "description": _description(m, run.manifest_path), "identifier": _text(m.get("id")),
        "startTime": iso_time(info.get("start_time")), "endTime": iso_time(info.get("end_time")), **_status(info),
        "instrument": _instrument(c, run), "object": _refs(_inputs(c, run)), "result": _refs(_outputs(c, run)),
        "agent": [p for p in (c.person(a) for a in m.get("authors") or [] if isinstance(m.get("authors"), list)) if p],
        "environment": _refs(c.property_value("env", run, str(k), str(v))["@id"] for k, v in sorted(variables.items(), key=_by_name)),
        "containerImage": _container(c, env.get("container")), "subjectOf": _refs(subjects),
    }  # fmt: skip
    return c.g.add(action)


def _manifest_props(c: _Crate, m: dict[str, Any], aid: str, name: str) -> dict[str, Any]:
    version = m.get("spec_version")
    schema = None
    if version in KNOWN_VERSIONS:
        schema = c.g.add({"@id": schema_id(version), "@type": "CreativeWork", "name": f"Experiment manifest {version} (JSON Schema)"})
    return {"name": f"Manifest of run {name}", "about": {"@id": aid}, "conformsTo": {"@id": schema} if schema else None, "license": c.license(m.get("license"))}


# --------------------------------------------------------------------------- crates


def _crate(entries: list[_Entry], runs: list[CrateRun], *, name: str, description: str, date_published: str, license: str | None, authors: list[dict[str, Any]]) -> dict[str, Any]:
    c = _Crate([e for e in entries if e.path != METADATA_FILE])
    author_refs = [p for p in (c.person(a) for a in authors) if p]
    actions = [_action(c, run) for run in sorted(runs, key=lambda r: r.manifest_path)]
    c.finish()
    c.g.add({"@id": PROFILE, "@type": "CreativeWork", "name": "Process Run Crate", "version": PROFILE_VERSION})
    root = {
        "@id": "./", "@type": "Dataset", "name": name, "description": description, "datePublished": date_published,
        "license": c.license(license) or NO_LICENSE, "conformsTo": {"@id": PROFILE}, "author": author_refs,
        "hasPart": _refs(c.parts), "mentions": _refs(actions),
    }  # fmt: skip
    descriptor = {"@id": METADATA_FILE, "@type": "CreativeWork", "conformsTo": {"@id": RO_CRATE}, "about": {"@id": "./"}}
    rest = [c.g.entities[k] for k in sorted(c.g.entities)]
    return {"@context": [CONTEXT[0], dict(CONTEXT[1])], "@graph": [descriptor, _clean(root), *rest]}


def bundle_crate(files: list[CrateFile], runs: list[CrateRun], *, name: str, description: str, date_published: str, license: str | None, authors: list[dict]) -> dict:
    """The ``ro-crate-metadata.json`` of a bundle: ``files`` (every file, with measured size and
    SHA-256) as the root's parts, ``runs`` as actions, ``authors`` (manifest Author objects) as the
    crate's authors. ``license`` is an SPDX expression; without one the root's license is the text
    :data:`NO_LICENSE`. A bundle path that is not a safe relative path raises ``ValueError``."""
    entries = [_Entry(_safe_path(f.path), f.size, f.sha256 if _SHA256.fullmatch(f.sha256 or "") else None, _media(f.media_type)) for f in files]
    return _crate(entries, runs, name=name, description=description, date_published=date_published, license=license, authors=authors)


def _shipped(m: dict[str, Any], base: str) -> list[_Entry]:
    """The files a manifest says travel with it (diff, copies of configuration and untracked files,
    split indices, metric histories, shipped artifacts and models), as crate paths."""
    refs: list[tuple[Any, Any, Any]] = []  # (path, size, digest) of FileRef-like objects
    code = m.get("code") if isinstance(m.get("code"), dict) else {}
    if isinstance(code.get("diff"), dict):
        refs.append((code["diff"].get("path"), code["diff"].get("size"), code["diff"].get("digest")))
    for group in ("config_files", "untracked_files"):
        refs += [(f.get("local_path"), f.get("size"), f.get("digest")) for f in code.get(group) or [] if isinstance(f, dict)]
    for inp in m.get("data") or []:
        idx = (inp.get("split") or {}).get("indices") if isinstance(inp, dict) and isinstance(inp.get("split"), dict) else None
        if isinstance(idx, dict):
            refs.append((idx.get("path"), idx.get("size"), idx.get("digest")))
    for metric in (m.get("metrics") or {}).values() if isinstance(m.get("metrics"), dict) else []:
        h = metric.get("history_file") if isinstance(metric, dict) else None
        if isinstance(h, dict):
            refs.append((h.get("path"), h.get("size"), h.get("digest")))
    out = [_Entry(p, _int(size), _sha256(digest)) for p, size, digest in ((_under(base, r), s, d) for r, s, d in refs) if p]
    return out + _shipped_outputs(m, base)


def _shipped_outputs(m: dict[str, Any], base: str) -> list[_Entry]:
    out = []
    for a in m.get("artifacts") or [] if isinstance(m.get("artifacts"), list) else []:
        path = _under(base, a.get("local_path")) if isinstance(a, dict) else None
        if path and (a.get("kind") == "directory" or "dirHash" in (a.get("digest") or {})):
            out.append(_Entry(path + "/"))
        elif path:
            out.append(_Entry(path, _int(a.get("size")), _sha256(a.get("digest")), _media(a.get("media_type"))))
    for mo in m.get("models") or [] if isinstance(m.get("models"), list) else []:
        root = _under(base, mo.get("local_path")) if isinstance(mo, dict) else None
        if root:
            files = [(_under(root, f.get("path")), f) for f in mo.get("files") or [] if isinstance(f, dict)]
            out += [_Entry(p, _int(f.get("size")), _sha256(f.get("digest"))) for p, f in files if p] or [_Entry(root + "/")]
    return out


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def manifest_crate(manifest: dict, manifest_path: str = "manifest.yaml") -> dict:
    """The ``ro-crate-metadata.json`` of one manifest file, for a crate that is the manifest's
    directory: the manifest and the files it says travel with it are the parts, its run the action.
    Name, description, license and authors are the manifest's; ``datePublished`` is the day it was
    written (``provenance.created_at``), never today, so converting twice gives the same crate."""
    m = manifest
    path = _safe_path(manifest_path)
    entries = [_Entry(path), *_shipped(m, posixpath.dirname(path))]
    prov = m.get("provenance") if isinstance(m.get("provenance"), dict) else {}
    info = m.get("run") if isinstance(m.get("run"), dict) else {}
    day = next((t[:10] for t in (prov.get("created_at"), info.get("start_time")) if isinstance(t, str) and _DATE.fullmatch(t[:10])), None)
    name = _text(m.get("name")) or path
    authors = m.get("authors") if isinstance(m.get("authors"), list) else []
    return _crate(
        entries, [CrateRun(path, m)], name=f"Run {name}", description=_text(m.get("description")) or f"The machine-learning run {name}, described by its experiment manifest {path}.",
        date_published=day or "", license=_text(m.get("license")), authors=[a for a in authors if isinstance(a, dict)],
    )  # fmt: skip

"""Warnings on the manifest's own members (spec 15.1): ``$schema``, ``id``, where it came from
(``provenance.source``), and the roles of the people it credits.

None of these makes a document invalid; each is a SHOULD or a RECOMMENDED of spec 7 that a reader
can check, and that keeps manifests from different writers comparable.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem
from ...core.versions import SCHEMA_BASE, schema_id

#: A URN UUID (RFC 9562; the ``urn:uuid:`` prefix and the hex digits compare case-insensitively).
_URN_UUID = re.compile(r"(?i)urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)")
_SCHEMA_ID = re.compile(re.escape(SCHEMA_BASE) + r"manifest-([0-9]+)\.([0-9]+)\.schema\.json")

#: MLflow tags whose information a field of the manifest holds (spec 7, Source ``system_tags``).
MAPPED_SYSTEM_TAGS = frozenset({
    "mlflow.runName", "mlflow.user", "mlflow.parentRunId", "mlflow.note.content", "mlflow.source.name",
    "mlflow.source.type", "mlflow.source.git.commit", "mlflow.source.git.branch", "mlflow.source.git.repoURL",
})

#: The CRediT role names as the last segments of their URIs (spec 7, Author ``roles``).
CREDIT_ROLES = frozenset({
    "conceptualization", "data-curation", "formal-analysis", "funding-acquisition", "investigation", "methodology",
    "project-administration", "resources", "software", "supervision", "validation", "visualization",
    "writing-original-draft", "writing-review-editing",
})


def schema_uri(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``schema-uri-mismatch``: an editor or a generic validator follows ``$schema``, so one
    that names another schema (another version's, a local copy) checks the document against rules
    it does not state. Absent is fine, as is a schema named only in a YAML comment (not data).

    A document of a later minor version reaches the rules with ``spec_version`` taken as the
    version this tool knows (spec 4.5), so the ``$id`` of a later minor version of the same major
    version is accepted too.
    """
    if "$schema" not in d:
        return
    uri, version = d["$schema"], d["spec_version"]
    if not isinstance(uri, str) or not uri or uri == schema_id(version) or _later_minor(uri, version):
        return  # a $schema that is not a non-empty string is a schema problem, reported as one
    yield Problem("schema-uri-mismatch", f"$schema is {uri!r}; for spec_version {version} it should be {schema_id(version)!r}, the $id of that version's schema (or be left out)", "/$schema")


def _later_minor(uri: str, version: str) -> bool:
    """Whether ``uri`` is the ``$id`` of a later minor version of ``version``'s major version."""
    named, stated = _SCHEMA_ID.fullmatch(uri), _VERSION.fullmatch(version)
    if not named or not stated:
        return False
    return named.group(1) == stated.group(1) and int(named.group(2)) > int(stated.group(2))


def manifest_id(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``id-not-urn-uuid``: a URN UUID is RECOMMENDED, since anyone can make one that is
    globally unique without asking a registry, and every reader recognises the form."""
    if isinstance(d["id"], str) and d["id"] and not _URN_UUID.fullmatch(d["id"]):
        yield Problem("id-not-urn-uuid", f"id {d['id']!r} is not a URN UUID (urn:uuid:<uuid>), the recommended form of a globally unique id", "/id")


def source_system(d: dict[str, Any]) -> Iterator[Problem]:
    """Warnings ``system-not-lowercase`` and ``mapped-system-tag`` (spec 7, Source): one spelling
    of a system's name lets manifests of one system be found together; a tag that a field already
    holds is said twice, and the two can come to disagree."""
    src = (d.get("provenance") or {}).get("source")
    if not isinstance(src, dict):
        return
    system = src.get("system")
    if isinstance(system, str) and system != system.lower():
        yield Problem("system-not-lowercase", f"system {system!r} is not lowercase; writers use the system's lowercase common name ({system.lower()!r})", "/provenance/source/system")
    for tag in src.get("system_tags") or {}:
        if tag in MAPPED_SYSTEM_TAGS:
            yield Problem("mapped-system-tag", f"system tag {tag!r} repeats what a field of the manifest holds (spec Appendix A); leave it out of system_tags", join_pointer(["provenance", "source", "system_tags", tag]))


def author_roles(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``unknown-author-role``: CRediT role names are RECOMMENDED, so that a contribution
    reads the same in every manifest and maps to the citation formats that use CRediT."""
    for ptr, author in _credited(d):
        roles = author.get("roles")
        for k, role in enumerate(roles if isinstance(roles, list) else []):
            if isinstance(role, str) and role and role not in CREDIT_ROLES:
                yield Problem("unknown-author-role", f"role {role!r} is not a CRediT role name (conceptualization, data-curation, software, ...)", f"{ptr}/roles/{k}")


def _credited(d: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Author object: the manifest's ``authors`` and each data input's ``creators``."""
    for i, author in enumerate(d.get("authors") or []):
        yield f"/authors/{i}", author
    for i, inp in enumerate(d.get("data") or []):
        for j, author in enumerate(inp.get("creators") or []):
            yield f"/data/{i}/creators/{j}", author

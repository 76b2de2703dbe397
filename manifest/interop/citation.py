"""The manifests of one work (a run, or a bundle of runs) as a CITATION.cff 1.2.0 file.

Every value comes from the manifests or the arguments; nothing is looked up, so an anonymised
bundle gets an anonymous file (an author list without authors becomes the entity ``Anonymous``, since
CFF requires one). Text is untrusted: the YAML writer of :mod:`manifest.document.writer` quotes every
string that is not a plain word, so quotes, line feeds, ``: ``, ``#`` and any Unicode stay data.

A field that the CFF schema would refuse (an e-mail without a domain, a DOI outside CFF's pattern,
a license expression that is not one SPDX id or an ``OR`` of ids) is left out rather than written,
so the file always validates; the manifest keeps the original.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from ..core.uris import strip_credentials
from ..document.writer import dumps_yaml
from .patterns import ORCID, SPDX_ID

CFF_VERSION = "1.2.0"
MESSAGE = "If you use these results, please cite them using the metadata from this file."
#: The author of a work whose authors are unknown or removed (CFF requires at least one).
ANONYMOUS = {"name": "Anonymous"}

# Patterns of the CFF 1.2.0 schema (definitions email, orcid, doi, url, date).
_EMAIL = re.compile(r"[\S]+@[\S]+\.[\S]{2,}")
_DOI = re.compile(r"10\.\d{4,9}(\.\d+)?/[A-Za-z0-9:/_;\-.()\[\]\\]+")
_URL = re.compile(r"(https|http|ftp|sftp)://\S+")
_DATE = re.compile(r"[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])")


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _valid_date(v: Any) -> bool:
    if not isinstance(v, str) or not _DATE.fullmatch(v):
        return False
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def cff_author(author: dict[str, Any]) -> dict[str, str]:
    """A manifest Author as a CFF person (when given or family names are known) or entity (an
    organization, or a name that was never divided: CFF persons have no full-name field)."""
    name = _text(author.get("name")) or "Anonymous"
    given, family = _text(author.get("given_name")), _text(author.get("family_name"))
    if author.get("type") != "organization" and (given or family):
        out = {k: v for k, v in (("given-names", given), ("family-names", family), ("affiliation", _text(author.get("affiliation")))) if v}
    else:
        out = {"name": name}
    email, orcid = _text(author.get("email")), _text(author.get("orcid"))
    if email and _EMAIL.fullmatch(email):
        out["email"] = email
    if orcid and ORCID.fullmatch(orcid):
        out["orcid"] = orcid
    return out


def _authors(manifests: list[dict[str, Any]], authors: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """The CFF authors, each once (CFF requires unique items), in order of first appearance."""
    given = authors if authors is not None else [a for m in manifests for a in m.get("authors") or [] if isinstance(a, dict)]
    out: dict[str, dict[str, str]] = {}
    for a in given:
        entry = cff_author(a)
        out.setdefault(json.dumps(entry, sort_keys=True), entry)
    return list(out.values()) or [dict(ANONYMOUS)]


def _license(manifests: list[dict[str, Any]]) -> str | list[str] | None:
    """The one license of the work: an SPDX id, or a list of ids for ``A OR B`` (CFF reads a list as
    OR), when every manifest states it. Different or unknown licenses, and AND/WITH expressions,
    have no CFF form."""
    found = {m.get("license") if _text(m.get("license")) else None for m in manifests}
    if len(found) != 1 or None in found:
        return None
    ids = [part.strip() for part in found.pop().split(" OR ")]
    if not all(SPDX_ID.fullmatch(i) for i in ids) or len(set(ids)) != len(ids):
        return None
    return ids[0] if len(ids) == 1 else ids


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _repository(manifests: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The first ``https`` repository and the commit of the same manifest."""
    for m in manifests:
        code = m.get("code") or {}
        repo = strip_credentials(code["repository"]) if _text(code.get("repository")) else None
        if repo and repo.lower().startswith("https://") and _URL.fullmatch(repo):
            return repo, _text(code.get("commit"))
    return None, None


def _default_title(manifests: list[dict[str, Any]]) -> str:
    names = [str(m["name"]) for m in manifests if _text(m.get("name"))]
    if len(names) == 1:
        return names[0]
    return f"{len(manifests)} runs: {', '.join(names)}" if names else "Experiment runs"


def _preferred(citations: list[dict[str, Any]], title: str, authors: list[dict[str, str]]) -> dict[str, Any] | None:
    """The first citation with a DOI or a prose form, as a generic reference (its prose in ``notes``)."""
    for c in citations:
        doi = c.get("doi") if isinstance(c.get("doi"), str) and _DOI.fullmatch(c["doi"]) else None
        if not (doi or _text(c.get("text"))):
            continue
        ref: dict[str, Any] = {"type": "generic", "title": _text(c.get("title")) or title, "authors": authors}
        extra = (("doi", doi), ("url", c.get("url") if isinstance(c.get("url"), str) and _URL.fullmatch(c["url"]) else None), ("version", _text(c.get("version"))), ("date-released", c.get("date_released") if _valid_date(c.get("date_released")) else None), ("notes", _text(c.get("text"))))
        ref.update({k: v for k, v in extra if v})
        return ref
    return None


def citation_data(manifests: list[dict[str, Any]], *, title: str | None = None, authors: list[dict[str, Any]] | None = None, date_released: str | None = None) -> dict[str, Any]:
    """The CITATION.cff document as data (see :func:`citation_cff`)."""
    if date_released is not None and not _valid_date(date_released):
        raise ValueError(f"date_released must be a calendar date YYYY-MM-DD, not {date_released!r}")
    cites = [m.get("citation") or {} for m in manifests]
    people = _authors(manifests, authors)
    cff: dict[str, Any] = {"cff-version": CFF_VERSION, "message": MESSAGE}
    cff["title"] = _text(title) or _first([_text(c.get("title")) for c in cites]) or _default_title(manifests)
    cff["authors"] = people
    repo, commit = _repository(manifests)
    fields = {
        "version": _first([_text(c.get("version")) for c in cites]),
        "date-released": date_released or _first([c.get("date_released") for c in cites if _valid_date(c.get("date_released"))]),
        "doi": _first([c.get("doi") for c in cites if isinstance(c.get("doi"), str) and _DOI.fullmatch(c["doi"])]),
        "url": _first([c.get("url") for c in cites if isinstance(c.get("url"), str) and _URL.fullmatch(c["url"])]),
        "license": _license(manifests),
        "repository-code": repo,
        "commit": commit,
        "abstract": _text(manifests[0].get("description")) if len(manifests) == 1 else None,
        "preferred-citation": _preferred(cites, cff["title"], people),
    }
    cff.update({k: v for k, v in fields.items() if v})
    return cff


def citation_cff(manifests: list[dict[str, Any]], *, title: str | None = None, authors: list[dict[str, Any]] | None = None, date_released: str | None = None) -> str:
    """CITATION.cff 1.2.0 text for the work the manifests describe.

    ``title`` defaults to the first citation title, else the run name(s); ``authors`` (manifest
    Author objects) replaces the manifests' authors; ``date_released`` (``YYYY-MM-DD``) the first
    citation's. Other fields come from the first manifest that has them. Raises
    :class:`ValueError` for an invalid ``date_released``.
    """
    return dumps_yaml(citation_data(manifests, title=title, authors=authors, date_released=date_released), order=False, schema_comment=False)

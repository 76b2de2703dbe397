"""Double-blind bundles: who made a run, and where, taken out of every file the tool writes.

What is an identity here: user names (the run's, the tracking store's ``mlflow.user``, this
machine's), host names (this machine's, the tracking server's), e-mail addresses, home and other
absolute paths, repository URLs and their owners, and the authors (names, ORCID iDs, affiliations).
They are collected from the manifests and the machine first (:func:`collect`), then:

- fields that only say who or where (``authors``, ``run.user``, ``code.repository``,
  ``provenance.source.tracking_uri``, a citation's text, BibTeX, DOI and URL) are removed or set to
  ``anonymous``;
- every other string has absolute paths cut to ``/anonymized/<file name>``, ``file:`` URIs likewise,
  e-mail addresses and every collected term replaced by ``anonymized``.

Copied code and data are never rewritten (their digests are the proof): identities found in them
are reported (:func:`find_terms`). After writing, the whole bundle is scanned once more
(:func:`leaks`); a leak in a file the tool wrote is a bug, and the export fails rather than ship it.
"""

from __future__ import annotations

import copy
import getpass
import io
import re
import socket
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

PLACEHOLDER = "anonymized"
ANON_DIR = "/anonymized/"
#: Account names too generic to identify anyone (and too common as words to replace).
GENERIC_ACCOUNTS = frozenset({"root", "user", "admin", "runner", "ubuntu", "jovyan", "docker", "vscode", "nobody", "mlflow", "ci", "anonymous"})
#: Names the tool itself and the ecosystem write into every bundle: never an identity to remove.
TOOL_WORDS = frozenset({"experiment-manifest", "experiment_manifest", "manifest", "manifests", "github", "gitlab", "bitbucket", "huggingface", "scikit-learn", "sklearn", "pytorch", "tensorflow"})
#: Terms shorter than this are not replaced inside text (they would mangle ordinary words).
MIN_TERM = 3
#: An e-mail address: its top-level domain is letters (so ``pkg:pypi/numpy@2.4.6`` is none).
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
#: A URI of a local file (an empty authority: ``file:///p``, ``sqlite:////p``): its path is a path of
#: the author's machine.
#: (``sqlite:///x`` is relative: SQLAlchemy's absolute form has four slashes.)
FILE_URI = re.compile(r"(?<![\w+.-])(?!sqlite:///[^/])([A-Za-z][A-Za-z0-9+.-]*):///+([^\s'\"<>]*)", re.IGNORECASE)
#: An absolute POSIX path inside text: a slash not preceded by a word, a dot, a tilde, a slash or
#: ``<`` (so ``a/b``, ``https://h/p`` and ``</td>`` are left), then at least one segment; a colon
#: ends a segment, so each part of ``PYTHONPATH=/a:/b`` is one. ``models:/x`` (a URI scheme before
#: the slash) is left by :func:`_paths`.
ABS_PATH = re.compile(r"(?<![\w.~/<])/(?!anonymized/)(?:[^\s/'\"<>|;,:()\[\]{}]+/)*[^\s/'\"<>|;,:()\[\]{}]+")
#: A Windows path with a drive letter (``C:\Users\x``, ``C:/Users/x``).
WIN_PATH = re.compile(r"(?<![\w/.~\\-])[A-Za-z]:[\\/](?:[^\s\\/'\"<>|;,:]+[\\/])*[^\s\\/'\"<>|;,:]+")
_SCHEME_BEFORE = re.compile(r"(?:^|[^\w/.])[A-Za-z][A-Za-z0-9+.-]*:$")
#: Where a copied file's absolute path names a person: home directories.
HOME_PREFIXES = ("/home/", "/Users/", "/root/", "/export/home/")
#: Fields removed from an anonymised manifest: they only say who or where.
REMOVED = (("authors",), ("code", "repository"), ("provenance", "source", "tracking_uri"), ("citation", "text"), ("citation", "bibtex"), ("citation", "doi"), ("citation", "url"))


@dataclass
class Identities:
    """The terms to take out (each with the kind it is, for reports), longest first."""

    terms: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, *values: Any) -> None:
        for v in values:
            if isinstance(v, str) and len(v.strip()) >= MIN_TERM and v.strip().lower() not in GENERIC_ACCOUNTS | TOOL_WORDS and v.strip().lower() != PLACEHOLDER:
                self.terms.setdefault(v.strip(), kind)

    def pattern(self) -> re.Pattern[str] | None:
        if not self.terms:
            return None
        alts = "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))
        return re.compile(rf"(?<![A-Za-z0-9])(?:{alts})(?![A-Za-z0-9])", re.IGNORECASE)


def collect(manifests: Iterable[dict[str, Any]], extra: Iterable[str] = ()) -> Identities:
    """The identities the manifests and this machine hold, plus ``extra`` (``--anonymize-term``)."""
    ids = Identities()
    for m in manifests:
        _from_manifest(ids, m)
    ids.add("user name", getpass.getuser(), Path.home().name)
    host = socket.gethostname()
    ids.add("host name", host, host.split(".")[0])
    ids.add("term", *extra)
    return ids


def _from_manifest(ids: Identities, m: dict[str, Any]) -> None:
    ids.add("user name", (m.get("run") or {}).get("user"), (m.get("tags") or {}).get("mlflow.user"))
    for a in m.get("authors") or []:
        # the full name and its citation forms; a given or family name alone is an ordinary word too
        # often ("Will Page", "Max Code") to be replaced wherever it appears
        given, family = a.get("given_name"), a.get("family_name")
        forms = [f"{family}, {given}", f"{given[0]}. {family}", f"{family} {given}"] if given and family else []
        ids.add("author", a.get("name"), *forms, a.get("affiliation"))
        ids.add("e-mail address", a.get("email"))
        ids.add("ORCID iD", a.get("orcid"), (a.get("orcid") or "").rsplit("/", 1)[-1])
    repo = (m.get("code") or {}).get("repository")
    if repo:
        ids.add("repository URL", repo, repo.removesuffix(".git"))
        ids.add("repository owner", *_owner(repo))
    uri = (m.get("provenance") or {}).get("source", {}).get("tracking_uri") or ""
    host = urlsplit(uri).hostname if "://" in uri else None
    if host and host not in ("localhost", "127.0.0.1", "::1") and not host.startswith("127."):
        ids.add("host name", host)
    for s in _strings(m):
        ids.add("e-mail address", *EMAIL.findall(s))


def _owner(repo: str) -> list[str]:
    """The owner of ``https://host/OWNER/name.git`` or ``git@host:OWNER/name.git``."""
    path = urlsplit(repo).path if "://" in repo else repo.partition(":")[2]
    parts = [p for p in path.split("/") if p]
    return [parts[0], "/".join(parts[:2]).removesuffix(".git")] if len(parts) >= 2 else []


def _strings(v: Any) -> Iterable[str]:
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield str(k)
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def scrub(text: str, ids: Identities, pattern: re.Pattern[str] | None = None) -> str:
    """``text`` with paths cut, e-mail addresses and identity terms replaced."""
    text = FILE_URI.sub(lambda mo: mo.group(0) if mo.group(2).startswith(ANON_DIR[1:]) else f"{mo.group(1)}://{ANON_DIR}{mo.group(2).rstrip('/').rsplit('/', 1)[-1]}", text)
    text = WIN_PATH.sub(lambda mo: ANON_DIR + re.split(r"[\\/]", mo.group(0))[-1], text)
    text = ABS_PATH.sub(lambda mo: mo.group(0) if _after_scheme(mo) else ANON_DIR + mo.group(0).rsplit("/", 1)[-1], text)
    text = EMAIL.sub(f"{PLACEHOLDER}@example.invalid", text)
    pat = pattern if pattern is not None else ids.pattern()
    return pat.sub(PLACEHOLDER, text) if pat is not None else text


def _after_scheme(mo: re.Match[str]) -> bool:
    """Whether the matched path follows a URI scheme (``models:/m-1``): not a path of a machine."""
    return bool(_SCHEME_BEFORE.search(mo.string[max(0, mo.start() - 64):mo.start()]))


def paths_in(text: str, *, homes_only: bool = False) -> list[str]:
    """The absolute paths (and ``file:`` URIs) ``text`` still holds; with ``homes_only``, those in
    a home directory (what names a person in a copied file, where ``/usr/bin/env`` does not)."""
    plain = DATA_URI.sub("", text)
    found = [mo.group(0) for mo in ABS_PATH.finditer(plain) if not _after_scheme(mo)]
    found += [mo.group(0) for mo in WIN_PATH.finditer(plain)]
    found += ["/" + mo.group(2) for mo in FILE_URI.finditer(plain) if not mo.group(2).startswith(ANON_DIR[1:])]
    if homes_only:
        home = str(Path.home()).rstrip("/") + "/"
        found = [p for p in found if p.startswith(HOME_PREFIXES) or p.startswith(home) or re.match(r"^[A-Za-z]:[\\/]Users[\\/]", p)]
    return found


def anonymize_manifest(m: dict[str, Any], ids: Identities) -> dict[str, Any]:
    """A copy of ``m`` without identities (see the module's docstring); digests are untouched."""
    out = copy.deepcopy(m)
    for path in REMOVED:
        _remove(out, path)
    run = out.get("run") or {}
    if "user" in run:
        run["user"] = "anonymous"
    if out.get("citation") == {}:
        out.pop("citation")
    pat = ids.pattern()
    return scrub_data(out, ids, pat)  # type: ignore[no-any-return]


def _remove(d: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        d = d.get(key) if isinstance(d.get(key), dict) else None  # type: ignore[assignment]
        if d is None:
            return
    d.pop(path[-1], None)


def scrub_data(v: Any, ids: Identities, pat: re.Pattern[str] | None) -> Any:
    """Every string of ``v`` (a JSON-like value) scrubbed; keys and other values kept."""
    if isinstance(v, str):
        return scrub(v, ids, pat)
    if isinstance(v, dict):
        return {k: scrub_data(x, ids, pat) for k, x in v.items()}
    if isinstance(v, list):
        return [scrub_data(x, ids, pat) for x in v]
    return v


def find_terms(data: bytes, ids: Identities, pattern: re.Pattern[str] | None = None) -> list[str]:
    """The kinds of identity ``data`` holds (e-mail addresses and collected terms), for warnings."""
    text = data.decode("utf-8", "replace")
    kinds = {ids.terms.get(next((t for t in ids.terms if t.lower() == mo.group(0).lower()), ""), "term") for mo in (pattern or ids.pattern() or re.compile(r"(?!x)x")).finditer(text)}
    if any(not e.endswith("@example.invalid") and not e.endswith(".png") for e in EMAIL.findall(text)):
        kinds.add("e-mail address")
    return sorted(kinds)


def readable_text(data: bytes) -> bytes | None:
    """What of a file can carry a name: all of a text file, the text chunks of a PNG; ``None`` for
    other binary files (compressed bytes match short names by chance)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return b"\n".join(_png_text(data))
    if data.startswith(b"\x1f\x8b"):  # a source archive: what its files say, and their names
        return _tar_text(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def _tar_text(data: bytes) -> bytes | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            parts = []
            for member in tar.getmembers():
                parts.append(member.name.encode())
                fh = tar.extractfile(member) if member.isfile() else None
                text = readable_text(fh.read()) if fh is not None else None
                if text:
                    parts.append(text)
            return b"\n".join(parts)
    except (tarfile.TarError, OSError, EOFError):
        return None


def _png_text(data: bytes) -> Iterable[bytes]:
    pos = 8
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind in (b"tEXt", b"iTXt", b"zTXt"):
            yield data[pos + 8:pos + 8 + size]
        pos += 12 + size


def leaks(root: Path, files: Iterable[str], ids: Identities, *, copied: bool = False) -> dict[str, list[str]]:
    """``{bundle path: kinds}`` for each of ``files`` (bundle-relative) that still holds an identity
    or an absolute path (for ``copied`` files, in any text file, a path in a home directory)."""
    pat = ids.pattern()
    found = {}
    for rel in files:
        text = readable_text((root / rel).read_bytes())
        if text is None:
            continue
        kinds = find_terms(text, ids, pat)
        if paths_in(text.decode("utf-8", "replace"), homes_only=copied) and (copied or rel.endswith((".yaml", ".yml", ".json", ".md", ".cff", ".html", ".tex"))):
            kinds.append("absolute path")
        if kinds:
            found[rel] = kinds
    return found

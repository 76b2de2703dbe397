"""Signing a bundle and checking its signatures: DSSE envelopes over ``index.json`` and each
in-toto statement, in ``signatures/<bundle path>.dsse.json``.

``index.json`` lists every other file of the bundle (but ``SHA256SUMS`` and ``signatures/``) with
its size and SHA-256, so one valid signature over it covers every file: checking compares the
files on disk with the *signed* index (the envelope's payload), never with the ``index.json`` that
lies beside it, and names each file that differs, is missing, or is not listed. The statements are
signed on their own as well, so in-toto tooling can take each envelope as it is.

Everything read from a bundle is untrusted: the paths of the signed index are looked up among the
regular files found by walking the bundle (symbolic links are not followed), never opened as given.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.digests import digest_bytes, file_digest, tree_files
from ..core.problems import InvalidManifest, ManifestError, Problem, Refused
from ..core.text import fs_text, one_line, shorten
from ..document.json_reader import parse_json
from ..document.reader import decode, read_bytes
from ..document.writer import write_all
from ..signing import dsse
from ..signing.keys import SigningKey, VerifyKey
from ..spec.rules.paths import relative_path_problem
from .checking import check_bundle
from .layout import ATTESTATIONS, INDEX, MAX_LIST_BYTES, SIGNATURES, SUMS, SUMS_LINE, UNLISTED, format_sums

ENVELOPE_SUFFIX = ".dsse.json"
STATEMENT_SUFFIX = ".intoto.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def envelope_path(rel: str) -> str:
    """Where the envelope over the bundle file ``rel`` lies: ``signatures/<rel>.dsse.json``."""
    return f"{SIGNATURES}{rel}{ENVELOPE_SUFFIX}"


def is_statement(rel: str) -> bool:
    """An in-toto statement of the bundle: ``attestations/<stem>.intoto.json``, one level down."""
    head, _, name = rel.partition("/")
    return head == ATTESTATIONS and "/" not in name and name.endswith(STATEMENT_SUFFIX) and name != STATEMENT_SUFFIX


def is_indexed(rel: str) -> bool:
    """Whether the index's ``files`` list covers ``rel``: all but itself, ``SHA256SUMS`` and signatures."""
    return rel not in UNLISTED and not rel.startswith(SIGNATURES)


@dataclass
class BundleFiles:
    """What walking a bundle found: regular files by relative path, and everything else (symbolic
    links, FIFOs, sockets) that the index cannot cover."""

    root: Path
    regular: dict[str, Path] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)

    def name(self, rel: str) -> str:
        """The printable path of the entry ``rel``."""
        return fs_text(str(self.root / rel))


def bundle_files(root: Path) -> BundleFiles:
    """The bundle's entries, walked without following symbolic links; an unreadable directory
    raises its :class:`OSError` (its files would otherwise silently go unchecked)."""
    found = BundleFiles(root)

    def fail(exc: OSError) -> None:
        raise exc

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath, name)
            rel = p.relative_to(root).as_posix()
            mode = os.lstat(p).st_mode
            if stat.S_ISREG(mode):
                found.regular[rel] = p
            elif stat.S_ISLNK(mode):
                found.other[rel] = "a symbolic link"
            elif not stat.S_ISDIR(mode):
                found.other[rel] = "not a regular file"
    return found


# --------------------------------------------------------------------------- signing


def existing_signatures(root: Path) -> list[str]:
    """The files below ``signatures/`` (relative to ``root``), sorted."""
    return sorted(rel for rel in bundle_files(root).regular if rel.startswith(SIGNATURES))


def sign_bundle(root: Path, key: SigningKey, *, force: bool = False, update_sums: bool = False) -> list[str]:
    """Write an envelope over ``index.json`` and over each ``attestations/*.intoto.json``, signed by
    ``key``; the paths written (relative to ``root``), index first.

    Each payload is the exact bytes of its file. The index must list the bundle's files: paths and
    sizes are compared here, not digests (an export has just computed them; ``manifest sign``
    runs :func:`check_signable` first, so that tampered content is never signed). Existing
    envelopes are refused (``output-exists``) unless ``force``. With ``update_sums`` the envelopes
    and a new ``SHA256SUMS`` are written together (each through a temporary file, the checksums
    last), so a failure leaves the old files; without it the caller writes the checksums after.
    The private key is only used, never written.
    """
    files = bundle_files(root)
    existing = sorted(rel for rel in files.regular if rel.startswith(SIGNATURES))
    if existing and not force:
        raise Refused(Problem("output-exists", f"the bundle is signed already ({', '.join(existing[:2])}{', ...' if len(existing) > 2 else ''}); pass --force to replace its signatures", file=files.name(SIGNATURES)))
    index = _read(INDEX, files)
    problems = index_problems(_signable_index(root, index), files, signed=False)
    if problems:
        raise Refused(problems)
    envelopes = {envelope_path(INDEX): dsse.dumps(dsse.sign(index, dsse.INDEX_TYPE, key))}
    for rel in sorted(r for r in files.regular if is_statement(r)):
        envelopes[envelope_path(rel)] = dsse.dumps(dsse.sign(_read(rel, files), dsse.STATEMENT_TYPE, key))
    writes: list[tuple[Path, str | bytes | Path]] = [(root / rel, data) for rel, data in envelopes.items()]
    if update_sums:
        writes.append((root / SUMS, sums_text(root, envelopes)))
    write_all(writes)
    return list(envelopes)


def _read(rel: str, files: BundleFiles) -> bytes:
    if rel not in files.regular:
        raise Refused(Problem("bundle-index-missing", f"{rel} is {files.other.get(rel, 'missing')}; it cannot be signed", file=files.name(rel)))
    return read_bytes(files.regular[rel], max_bytes=dsse.MAX_PAYLOAD_BYTES)


def _signable_index(root: Path, index: bytes) -> SignedIndex:
    try:
        return parse_index(index, INDEX, root)
    except ManifestError as exc:
        raise Refused(exc.problems) from None


def check_signable(root: Path) -> list[Problem]:
    """What stops ``root`` from being signed: the bundle check (every file against ``SHA256SUMS``,
    the manifests and files against the index), then the index's ``files`` against the bundle as
    a signature will be checked, unlisted files included (digests from the just-checked
    ``SHA256SUMS``, so nothing is hashed again)."""
    problems = [p for p in check_bundle(root) if p.severity == "error"]
    if problems:
        return problems
    files = bundle_files(root)
    try:
        index = parse_index(read_bytes(root / INDEX, max_bytes=MAX_LIST_BYTES), INDEX, root)
    except ManifestError as exc:
        return exc.problems
    sums = read_sums(root / SUMS)
    return index_problems(index, files, signed=False, digest=lambda rel, p: sums.get(rel) or file_digest(p)[1]["sha256"])


def read_sums(path: Path) -> dict[str, str]:
    """``{path: sha256}`` of a ``SHA256SUMS`` (lines of another form are left out: the bundle check
    reports them)."""
    text = read_bytes(path, max_bytes=MAX_LIST_BYTES).decode("utf-8", "replace")
    return {m.group(2): m.group(1) for m in (SUMS_LINE.fullmatch(ln) for ln in text.splitlines()) if m}


def sums_text(root: Path, new: dict[str, bytes]) -> str:
    """``SHA256SUMS`` of ``root`` once the files ``new`` (path -> bytes) are written, in the form
    and order of :func:`manifest.bundle.writing.write_sums`. The digests of an existing
    ``SHA256SUMS`` are reused (the caller has checked it, or just written it), so large data
    files are not hashed again."""
    old = read_sums(root / SUMS) if (root / SUMS).is_file() else {}
    digests = {rel: old.get(rel) or file_digest(p)[1]["sha256"] for rel, p in tree_files(root) if rel != SUMS and rel not in new}
    digests.update({rel: digest_bytes(data)["sha256"] for rel, data in new.items()})
    return format_sums(digests)


# --------------------------------------------------------------------------- the index's files


@dataclass(frozen=True)
class SignedIndex:
    """The ``files`` of an index: ``(path, size, sha256)`` per well-formed entry, and the problems
    of the others (an unsafe path, a wrong type)."""

    name: str
    entries: list[tuple[str, int, str]]
    problems: list[Problem]


def parse_index(data: bytes, name: str, root: Path) -> SignedIndex:
    """The ``files`` list of an index's bytes; :class:`InvalidManifest` (``bundle-index-missing``)
    when they are not a bundle index with one."""
    where = fs_text(str(root / INDEX))
    try:
        doc = parse_json(decode(data, where), where)
    except InvalidManifest as exc:
        raise InvalidManifest(Problem("bundle-index-missing", f"{name} is not JSON: {exc.problems[0].message}", file=where)) from None
    files = doc.get("files") if isinstance(doc, dict) and "bundle_version" in doc else None
    if not isinstance(files, list):
        why = "has no files list, so it does not cover the bundle's files; export the bundle again" if isinstance(doc, dict) and "bundle_version" in doc else "is not a bundle index"
        raise InvalidManifest(Problem("bundle-index-missing", f"{name} {why}", file=where))
    entries, problems = [], []
    for i, e in enumerate(files):
        entry, problem = _entry(e, i, name, where)
        if entry:
            entries.append(entry)
        if problem:
            problems.append(problem)
    return SignedIndex(name, entries, problems)


def _entry(e: Any, i: int, name: str, where: str) -> tuple[tuple[str, int, str] | None, Problem | None]:
    rel = e.get("path") if isinstance(e, dict) else None
    if not isinstance(rel, str) or not rel:
        return None, Problem("bundle-index-missing", f"entry {i} of the files of {name} has no path", file=where)
    why = relative_path_problem(rel)
    if why:
        return None, Problem("unsafe-path", f"entry {i} of the files of {name} names {one_line(shorten(rel, 200))!r}, which {why}; a bundle lists only files inside it", file=where)
    size, sha = e.get("size"), e.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        return None, Problem("bundle-index-missing", f"the entry of {one_line(rel)} in the files of {name} needs a size (bytes) and a sha256 (64 hex digits)", file=where)
    return (rel, size, sha), None


def index_problems(index: SignedIndex, files: BundleFiles, *, signed: bool, digest: Callable[[str, Path], str] | None = None) -> list[Problem]:
    """Every ``files`` entry of ``index`` against the bundle: present as a regular file, of its size,
    and (when ``digest`` is given, or ``signed``) of its SHA-256; then every file the index should
    list but does not. ``signed``: the index is a signature's payload (``signature-mismatch``);
    else it is the bundle's own ``index.json``, about to be signed (``bundle-index-mismatch``)."""
    code, said = ("signature-mismatch", "the signed index says") if signed else ("bundle-index-mismatch", f"{INDEX} says")
    if signed and digest is None:
        digest = lambda rel, p: file_digest(p)[1]["sha256"]
    problems = list(index.problems)
    listed = set()
    for rel, size, sha in index.entries:
        listed.add(rel)
        p = files.regular.get(rel)
        if p is None:
            what = f"is {files.other[rel]}" if rel in files.other else "is missing"
            problems.append(Problem(code, f"{one_line(rel)} {what}; {said} {size} bytes with sha256 {sha}", file=files.name(rel)))
            continue
        got = p.stat().st_size
        if got != size:
            problems.append(Problem(code, f"{one_line(rel)}: size is {got} bytes, {said} {size}", file=files.name(rel)))
        elif digest is not None and (have := digest(rel, p)) != sha:
            problems.append(Problem(code, f"{one_line(rel)}: sha256 is {have}, {said} {sha}", file=files.name(rel)))
    for rel in sorted({*files.regular, *files.other} - listed, key=lambda r: r.encode("utf-8", "surrogateescape")):
        if is_indexed(rel):
            what = f", and is {files.other[rel]}, which the index cannot cover" if rel in files.other else ""
            problems.append(Problem(code, f"{fs_text(rel)} is in the bundle but not in the files of {'the signed index' if signed else INDEX}{what}", file=files.name(rel)))
    return problems


# --------------------------------------------------------------------------- checking


def check_signatures(root: Path, public_key: VerifyKey) -> list[Problem]:
    """Every problem with the signatures of the bundle at ``root``, checked with ``public_key``.

    The envelope over ``index.json`` and one over each ``attestations/*.intoto.json`` must be
    there (``signature-missing``) and verify (``signature-invalid``: malformed, another key, wrong
    payload type); each file must be the bytes its envelope signs, and every file of the bundle
    must be as the signed index lists it (``signature-mismatch``, naming the file). Empty: every
    signature verifies and covers the bundle as it is.
    """
    files = bundle_files(root)
    problems: list[Problem] = []
    signed_index = _check_envelope(root, INDEX, dsse.INDEX_TYPE, public_key, files, problems)
    for rel in sorted(r for r in files.regular if is_statement(r)):
        _check_envelope(root, rel, dsse.STATEMENT_TYPE, public_key, files, problems)
    expected = {envelope_path(INDEX), *(envelope_path(r) for r in files.regular if is_statement(r))}
    for rel in sorted(r for r in [*files.regular, *files.other] if r.startswith(SIGNATURES) and r not in expected):
        problems.append(Problem("signature-mismatch", f"{fs_text(rel)} is in signatures/ but is no envelope over a file of the bundle: added after signing", file=files.name(rel)))
    if signed_index is not None:
        try:
            index = parse_index(signed_index, f"the signed {INDEX}", root)
        except ManifestError as exc:
            return [*problems, *exc.problems]
        problems += index_problems(index, files, signed=True)
    return problems


def _check_envelope(root: Path, rel: str, payload_type: str, key: VerifyKey, files: BundleFiles, problems: list[Problem]) -> bytes | None:
    """Check the envelope over ``rel``; its verified payload (even when the file differs from it)."""
    env = envelope_path(rel)
    shown, env_shown = fs_text(rel), fs_text(env)
    if env not in files.regular:
        problems.append(Problem("signature-missing", f"{shown} has no signature envelope {env_shown}" + (f" ({env_shown} is {files.other[env]})" if env in files.other else ""), file=files.name(env)))
        return None
    try:
        payload = dsse.verify(dsse.loads(read_bytes(files.regular[env], max_bytes=dsse.MAX_ENVELOPE_BYTES), files.name(env)), key, payload_type=payload_type)
    except ManifestError as exc:
        problems += [p if p.code != "signature-invalid" else Problem(p.code, f"{env_shown}: {p.message}", file=files.name(env)) for p in exc.problems]
        return None
    p = files.regular.get(rel)
    if p is None:
        problems.append(Problem("signature-mismatch", f"{shown} is {files.other.get(rel, 'missing')}, but {env_shown} signs it", file=files.name(rel)))
        return payload
    size, digests = file_digest(p)
    want = hashlib.sha256(payload).hexdigest()
    if digests["sha256"] != want:
        problems.append(Problem("signature-mismatch", f"{shown}: sha256 is {digests['sha256']} ({size} bytes), the signed copy in {env_shown} has {want} ({len(payload)} bytes)", file=files.name(rel)))
    return payload

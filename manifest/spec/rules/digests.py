"""Rule ``digest-kind`` (spec 15.9): a digest says what it hashes.

A file's digest set holds digests of its bytes (``sha256``, ``md5``, ...); a directory's holds
``dirHash`` alone (spec 6.3). Without that, ``{"sha256": ...}`` could be either, and a consumer
could not tell which computation to check it against. A model's digest describes a tree; a data
input's or an artifact's describes what its ``kind`` says (when ``kind`` is absent, ``dirHash``
means a directory); every other digest set of the schema describes bytes. The places come from the
schema itself, so a field added there is covered here without a change.

The warnings of spec 6.1 and 7 (which algorithms a digest set holds, and where a digest is
RECOMMENDED) are here too, over the same places.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

from ...core.digests import DIR_HASH, Kind, digest_kind
from ...core.pointers import join_pointer
from ...core.problems import Problem
from ...core.versions import load_schema

#: Where a digest set lies: member names, with ``*`` for any array item or map entry.
SchemaPath = tuple[str, ...]
_DIGEST_SET = "#/$defs/digestSet"
_TREES: set[SchemaPath] = {("models", "*", "digest")}
_BY_KIND: set[SchemaPath] = {("data", "*", "digest"), ("artifacts", "*", "digest")}
#: Digest sets of bytes that are not a file: an image manifest as its registry reports it, and
#: another manifest's canonical form (whose digest spec 13.2 defines as sha256 anyway).
_NOT_FILES: set[SchemaPath] = {("environment", "container", "digest"), ("provenance", "derived_from", "digest")}
#: Algorithms that are not collision-resistant (spec 6.1): a digest set of these alone can be forged.
WEAK_ALGORITHMS = frozenset({"md5", "sha1"})


def digest_kinds(d: dict[str, Any]) -> Iterator[Problem]:
    for path in digest_set_paths():
        for tokens, item, digest in _found(d, path):
            kind, reason = _expected(path, item, digest)
            yield from _kind_problems(join_pointer(tokens), digest, kind, reason)


@lru_cache(maxsize=None)
def digest_set_paths(version: str = "1.0") -> tuple[SchemaPath, ...]:
    """Every place the schema of ``version`` puts a digest set, in schema order."""
    schema = load_schema(version)
    out: list[SchemaPath] = []
    _walk(schema, schema, (), frozenset(), out)
    return tuple(dict.fromkeys(out))


def _walk(node: Any, schema: dict[str, Any], path: SchemaPath, seen: frozenset[str], out: list[SchemaPath]) -> None:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if ref == _DIGEST_SET:
        out.append(path)
        return
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref not in seen:  # a recursive schema is walked once
        _walk(schema["$defs"][ref[len("#/$defs/"):]], schema, path, seen | {ref}, out)
    for name, sub in (node.get("properties") or {}).items():
        _walk(sub, schema, (*path, name), seen, out)
    for key in ("items", "additionalProperties"):
        _walk(node.get(key), schema, (*path, "*"), seen, out)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key) or []:
            _walk(sub, schema, path, seen, out)


def _found(d: Any, path: SchemaPath, tokens: tuple[Any, ...] = (), parent: Any = None) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """``(pointer tokens, the object holding it, the digest set)`` for every match of ``path``."""
    if not path:
        yield tokens, parent, d
        return
    head, rest = path[0], path[1:]
    if head != "*":
        if isinstance(d, dict) and head in d:
            yield from _found(d[head], rest, (*tokens, head), d)
        return
    entries = enumerate(d) if isinstance(d, list) else d.items() if isinstance(d, dict) else ()
    for key, value in entries:
        yield from _found(value, rest, (*tokens, key), d)


def _expected(path: SchemaPath, item: dict[str, Any], digest: Any) -> tuple[Kind, str]:
    """What a digest set must describe, and why (for the message)."""
    if path in _TREES:
        return "directory", "a model's digest is that of its files as a directory tree"
    if path not in _BY_KIND:
        return "file", "this digest set describes bytes (of a file, a diff or a document)"
    kind = item.get("kind")
    if kind == "directory":
        return "directory", "kind is directory"
    if kind is not None:
        return "file", f"kind is {kind}"
    return digest_kind(digest), "dirHash makes it a directory (kind is absent)"


def _kind_problems(ptr: str, digest: Any, kind: Kind, reason: str) -> Iterator[Problem]:
    if not isinstance(digest, dict):
        return
    if kind == "file":
        if DIR_HASH in digest:
            yield Problem("digest-kind", f"dirHash is the digest of a directory tree, but {reason}; a file's digest holds digests of its bytes (spec 6.2)", ptr + join_pointer([DIR_HASH]))
        return
    for alg in digest:
        if alg != DIR_HASH:
            yield Problem("digest-kind", f"{alg} is a digest of a file's bytes, but {reason}; a directory's digest is dirHash alone (spec 6.3)", ptr + join_pointer([alg]))


def digest_algorithms(d: dict[str, Any]) -> Iterator[Problem]:
    """Warnings ``digest-without-sha256`` and ``weak-digest-only`` (spec 6.1).

    Every consumer can check ``sha256`` (and a model's ``dirHash`` needs it of each file), so a
    file's digest set without it may be one nobody can verify; MD5 and SHA-1 are not
    collision-resistant, so a digest set of those alone does not show that the content is unchanged.
    """
    for path in digest_set_paths():
        for tokens, item, digest in _found(d, path):
            if not isinstance(digest, dict) or not digest:
                continue
            ptr = join_pointer(tokens)
            if set(digest) <= WEAK_ALGORITHMS:
                yield Problem("weak-digest-only", f"the digest set holds only {' and '.join(sorted(digest))}, not collision-resistant; add sha256 (spec 6.1)", ptr)
            if "sha256" not in digest and _is_file_digest(path, item, digest):
                yield Problem("digest-without-sha256", f"the digest set of a file has no sha256 (only {', '.join(sorted(digest))}); writers should include it (spec 6.1)", ptr)


def _is_file_digest(path: SchemaPath, item: Any, digest: dict[str, Any]) -> bool:
    """Whether a digest set describes a file's bytes: not a directory (a set with ``dirHash`` is one,
    or is reported as ``digest-kind``), not an in-memory input (which should have no digest at all,
    warning ``memory-with-content``), and not bytes other than a file's (:data:`_NOT_FILES`)."""
    if path in _NOT_FILES or DIR_HASH in digest:
        return False
    if path in _BY_KIND and item.get("kind") == "memory":
        return False
    return _expected(path, item, digest)[0] == "file"


def recommended_digests(d: dict[str, Any]) -> Iterator[Problem]:
    """Warnings ``container-without-digest`` and ``derived-from-without-digest`` (spec 7).

    A name alone can be moved: an image tag to another image, a manifest id to another revision of
    the manifest. Only the digest says which content was used, so the spec RECOMMENDS it.
    """
    container = (d.get("environment") or {}).get("container")
    if isinstance(container, dict) and "digest" not in container:
        yield Problem("container-without-digest", "the container has no digest; a tag can be moved to another image, the image-manifest digest cannot (spec 7, Container)", "/environment/container")
    derived = (d.get("provenance") or {}).get("derived_from")
    if isinstance(derived, dict) and "digest" not in derived:
        yield Problem("derived-from-without-digest", "derived_from has no digest; only the manifest digest says which revision of that manifest was used (spec 7, DerivedFrom)", "/provenance/derived_from")

"""``manifest digest``: sizes and digest sets of files and directories, as a manifest holds them
(spec 6), or the manifest digest of manifests (spec 13.2). No MLflow."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from ..core.digests import ALGORITHMS, describe, digest_bytes
from ..core.problems import EXIT_INVALID, EXIT_OK, EXIT_USAGE, ManifestError
from ..core.text import fs_text, one_line
from ..document.canonical import canonical_json, manifest_digest
from ..spec.validation import load_valid
from .app import to_stderr


@dataclass(frozen=True)
class DigestArgs:
    """Every option of ``manifest digest``."""

    paths: tuple[str, ...]
    algorithms: tuple[str, ...]
    fmt: str
    manifest: bool


@click.command("digest")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(allow_dash=True))
@click.option("--algorithm", "-a", "algorithms", multiple=True, type=click.Choice(list(ALGORITHMS)), help="A file digest to compute (repeatable) [default: sha256]. A directory's digest is always its dirHash.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output for people, or a JSON array of what a manifest holds.")
@click.option("--manifest", is_flag=True, help="Each PATH is a manifest (or - for standard input): print its manifest digest, the SHA-256 of its canonical form.")
def command(**kwargs: Any) -> None:
    """Print the size and digest set of each file or directory, as a manifest records them.

    A file: its size and the digests of its bytes (sha256 unless --algorithm says otherwise). A
    directory: the size of its regular files and its dirHash, the hex SHA-256 of the lines
    '<sha256>  <path>' of every regular file below it, sorted by path (spec 6.3); symbolic
    links below it are not part of it. Text lines are KIND  SIZE  ALGORITHM=DIGEST...  PATH.
    With --manifest, the manifest digest of each manifest (spec 13.2), for
    provenance.derived_from.digest. Exit status 0 when every path was digested, 1 when a manifest
    is invalid, 2 for usage errors or a path that cannot be read (missing, FIFO, permission).
    """
    args = DigestArgs(**kwargs)
    algorithms = tuple(dict.fromkeys(args.algorithms)) or ("sha256",)
    entries, status = [], EXIT_OK
    for path in args.paths:
        try:
            entries.append(_manifest_entry(path, algorithms) if args.manifest else describe(path, algorithms))
        except ManifestError as exc:
            for problem in exc.problems:
                to_stderr(f"manifest: {problem.format()}")
            status = max(status, EXIT_USAGE if exc.exit_code == EXIT_USAGE else EXIT_INVALID)
    if args.fmt == "json":
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
    else:
        click.echo("".join(_text_line(e) for e in entries), nl=False)
    sys.exit(status)


def _manifest_entry(path: str, algorithms: tuple[str, ...]) -> dict[str, Any]:
    """``{"path", "digest"}``: the digest set ``provenance.derived_from.digest`` would hold."""
    data = load_valid(path).data
    digest = manifest_digest(data)
    extra = [a for a in algorithms if a not in digest]
    if extra:
        digest.update(digest_bytes(canonical_json(data), extra))
    return {"path": fs_text(path), "digest": {a: digest[a] for a in algorithms}}


def _text_line(entry: dict[str, Any]) -> str:
    """``KIND  SIZE  ALG=DIGEST...  PATH`` (a manifest: ``manifest  ALG=DIGEST...  PATH``)."""
    digests = " ".join(f"{a}={v}" for a, v in entry["digest"].items())
    head = f"{entry['kind']}  {entry['size']}" if "kind" in entry else "manifest"
    return f"{head}  {digests}  {one_line(entry['path'])}\n"

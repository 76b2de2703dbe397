"""``manifest verify``: a manifest against this machine, without running anything; or, with
``--signature --key PUB``, a bundle against its signatures, offline. No MLflow."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..bundle.layout import read_index
from ..bundle.signatures import check_signatures
from ..checks.verify import REPORTERS, verify
from ..core.problems import EXIT_INVALID, EXIT_OK, Problem
from ..core.text import fs_text, one_line
from ..signing.keys import VerifyKey, load_public_key
from ..spec.rules.paths import relative_path_problem

_DIR = click.Path(exists=True, file_okay=False, dir_okay=True)


@dataclass(frozen=True)
class VerifyArgs:
    """Every option of ``manifest verify``."""

    paths: tuple[str, ...]
    data_root: str | None
    repo: str | None
    fmt: str
    signature: bool = False
    key: str | None = None


@click.command("verify")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(allow_dash=True))
@click.option("--data-root", type=_DIR, metavar="DIR", help="Look for data inputs here: DIR/URI for relative URIs, DIR/FILENAME for absolute paths and file:// or remote URIs not found as they are.")
@click.option("--repo", type=_DIR, metavar="DIR", help="Git checkout to compare with the manifest's code [default: the repository holding the current directory].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output for people or for machines.")
@click.option("--signature", is_flag=True, help="Check the DSSE signatures of bundle directories (PATH... are bundles) with --key, instead of a manifest against this machine.")
@click.option("--key", metavar="PUB", type=click.Path(exists=True, dir_okay=False), help="The signer's ed25519 public key (KEY.pub from `manifest keygen`), for --signature.")
def command(**kwargs: Any) -> None:
    """Check data, code and environment against a manifest, without running anything.

    Each data input is found and its size and every recorded digest compared; the checkout's HEAD,
    uncommitted changes and their diff are compared with the recorded code; the Python version,
    platform and packages of the interpreter running this command are compared with the recorded
    environment. Relative data URIs resolve under --data-root, else in the run's working directory
    of the checkout, else next to the manifest; remote URIs are not checked.

    A bundle directory stands for every manifest it holds; inside a bundle, data inputs are found
    at the bundle's copies and the code is its source archive (proven to be the recorded commit
    without git or a checkout).

    One line per check, VERDICT  category  subject: reason, then a summary, for each manifest in
    turn (--format json: one JSON document per manifest, one per line block). Exit status 0 when
    nothing fails (warnings allowed), 1 when a check fails or a manifest is invalid, 2 for usage
    errors or an unreadable manifest.

    With --signature --key PUB, each PATH is a bundle directory, checked offline: the envelopes
    over index.json and each attestations/*.intoto.json must be there and verify with PUB, each of
    those files must be what its envelope signs, and every other file must have the size and
    SHA-256 the signed index lists (a file it does not list is reported too). One line per
    problem, naming the file, then a summary; exit status 0 when every signature verifies and
    covers the bundle as it is, 1 on any problem, 2 for usage errors (a key that is not an ed25519
    public key, cryptography not installed).
    """
    args = VerifyArgs(**kwargs)
    if args.signature or args.key:
        sys.exit(_verify_signatures(args))
    paths, errors = _expand(args.paths)
    for line in errors:
        click.echo(f"manifest: {line}", err=True)
    ok = not errors
    for path in paths:
        report = verify(path, data_root=args.data_root, repo=args.repo)
        click.echo(REPORTERS[args.fmt](report), nl=False)
        ok = ok and report.ok
        hint = _hint(report, args)
        if hint:
            click.echo(f"manifest: hint: {hint}", err=True)
    sys.exit(EXIT_OK if ok else EXIT_INVALID)


def _expand(paths: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A bundle directory stands for the manifests its index lists; the paths to verify, and what
    is wrong with a bundle that lists none, or an unsafe path (verifying nothing is no pass)."""
    out: list[str] = []
    errors: list[str] = []
    for p in paths:
        index = read_index(Path(p)) if p != "-" and Path(p).is_dir() else None
        if index is None:
            out.append(p)
            continue
        entries = index.get("manifests")
        rels = [e.get("path") if isinstance(e, dict) else None for e in entries] if isinstance(entries, list) else []
        safe = [r for r in rels if isinstance(r, str) and r and relative_path_problem(r) is None]
        errors += [f"{fs_text(p)}/index.json lists {one_line(str(r))!r}, which is not a safe path inside the bundle" for r in rels if r not in safe]
        if not rels:
            errors.append(f"{fs_text(p)}/index.json lists no manifest: nothing to verify")
        out += [str(Path(p) / r) for r in safe]
    return out, errors


def _hint(report: Any, args: VerifyArgs) -> str | None:
    """What to try when data or code checks fail: they may be looking in the wrong place."""
    failed = {i.category for i in report.items if i.verdict == "fail"}
    tips = []
    if "data" in failed and not args.data_root:
        tips.append("a data input was not found or differs; if the data lies elsewhere, pass --data-root DIR")
    if "code" in failed and not args.repo:
        tips.append("the code differs from this checkout; to compare another one, pass --repo DIR")
    return "; ".join(tips) or None


def _verify_signatures(args: VerifyArgs) -> int:
    """``--signature``: every bundle of ``args.paths`` against its signatures and ``--key``."""
    if not args.signature:
        raise click.UsageError("--key PUB goes with --signature")
    if args.key is None:
        raise click.UsageError("--signature needs --key PUB, the signer's public key")
    if args.data_root or args.repo:
        raise click.UsageError("--data-root and --repo do not go with --signature, which checks a bundle against its signatures")
    for path in args.paths:
        if not Path(path).is_dir():
            raise click.UsageError(f"--signature checks bundle directories; {fs_text(path)} is not a directory")
    key = load_public_key(args.key)
    ok = True
    for path in args.paths:
        problems = check_signatures(Path(path), key)
        click.echo(_render_signatures(path, key, problems, args.fmt), nl=False)
        ok = ok and not problems
    return EXIT_OK if ok else EXIT_INVALID


def _render_signatures(path: str, key: VerifyKey, problems: list[Problem], fmt: str) -> str:
    """One line per problem (as ``manifest validate`` shows them) and a summary, or one JSON document."""
    if fmt == "json":
        return json.dumps({"bundle": path, "keyid": key.keyid, "valid": not problems, "problems": [p.to_dict() for p in problems]}, indent=2, ensure_ascii=False) + "\n"
    lines = [p.format() for p in problems]
    if problems:
        lines.append(f"signatures of {fs_text(path)}: {len(problems)} problem{'s' if len(problems) != 1 else ''} with key {key.keyid}")
    else:
        lines.append(f"signatures of {fs_text(path)}: every signature verifies with key {key.keyid}, and every file is as signed")
    return "\n".join(lines) + "\n"

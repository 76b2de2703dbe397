"""``manifest verify``: a manifest against this machine, without running anything. No MLflow."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from ..checks.verify import REPORTERS, verify
from ..core.problems import EXIT_INVALID, EXIT_OK

_DIR = click.Path(exists=True, file_okay=False, dir_okay=True)


@dataclass(frozen=True)
class VerifyArgs:
    """Every option of ``manifest verify``."""

    paths: tuple[str, ...]
    data_root: str | None
    repo: str | None
    fmt: str


@click.command("verify")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(allow_dash=True))
@click.option("--data-root", type=_DIR, metavar="DIR", help="Look for data inputs here: DIR/URI for relative URIs, DIR/FILENAME for absolute paths and file:// or remote URIs not found as they are.")
@click.option("--repo", type=_DIR, metavar="DIR", help="Git checkout to compare with the manifest's code [default: the repository holding the current directory].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output for people or for machines.")
def command(**kwargs: Any) -> None:
    """Check data, code and environment against a manifest, without running anything.

    Each data input is found and its size and every recorded digest compared; the checkout's HEAD,
    uncommitted changes and their diff are compared with the recorded code; the Python version,
    platform and packages of the interpreter running this command are compared with the recorded
    environment. Relative data URIs resolve under --data-root, else in the run's working directory
    of the checkout, else next to the manifest; remote URIs are not checked.

    One line per check, VERDICT  category  subject: reason, then a summary, for each manifest in
    turn (--format json: one JSON document per manifest, one per line block). Exit status 0 when
    nothing fails (warnings allowed), 1 when a check fails or a manifest is invalid, 2 for usage
    errors or an unreadable manifest.
    """
    args = VerifyArgs(**kwargs)
    ok = True
    for path in args.paths:
        report = verify(path, data_root=args.data_root, repo=args.repo)
        click.echo(REPORTERS[args.fmt](report), nl=False)
        ok = ok and report.ok
        hint = _hint(report, args)
        if hint:
            click.echo(f"manifest: hint: {hint}", err=True)
    sys.exit(EXIT_OK if ok else EXIT_INVALID)


def _hint(report: Any, args: VerifyArgs) -> str | None:
    """What to try when data or code checks fail: they may be looking in the wrong place."""
    failed = {i.category for i in report.items if i.verdict == "fail"}
    tips = []
    if "data" in failed and not args.data_root:
        tips.append("a data input was not found or differs; if the data lies elsewhere, pass --data-root DIR")
    if "code" in failed and not args.repo:
        tips.append("the code differs from this checkout; to compare another one, pass --repo DIR")
    return "; ".join(tips) or None

"""``manifest validate``: check manifests, directories and bundles. Never imports MLflow."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from ..checks.batch import validate_paths
from ..checks.report import REPORTERS
from ..core.problems import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from .app import parse_size


@dataclass(frozen=True)
class ValidateArgs:
    paths: tuple[str, ...]
    fmt: str
    max_file_size: str
    jobs: int
    engine: str
    verbose: bool


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True, help="Output for people or for machines.")
@click.option("--max-file-size", default="64M", show_default=True, metavar="SIZE", help="Refuse files larger than this (e.g. 64M, 1G).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, help="Processes for many files; 0 uses every core.")
@click.option("--engine", type=click.Choice(["rs", "python"]), default="rs", show_default=True, help="JSON Schema engine: jsonschema-rs, or the reference Python jsonschema.")
@click.option("--verbose", "-v", is_flag=True, help="Also list the files that are valid.")
def command(**kwargs: object) -> None:
    """Check manifests: files, directories (recursively) or - for standard input.

    One line per problem, FILE:LINE:COL: /json/pointer: message, then a summary. Exit status 0 when
    every manifest is valid, 1 when any is invalid, 2 for usage errors or unreadable input.
    """
    args = ValidateArgs(**kwargs)  # type: ignore[arg-type]
    outcome = validate_paths(list(args.paths), max_bytes=parse_size(args.max_file_size), engine=args.engine, jobs=args.jobs)  # type: ignore[arg-type]
    click.echo(REPORTERS[args.fmt](outcome, verbose=args.verbose), nl=False)
    if outcome.unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if outcome.valid else EXIT_INVALID)

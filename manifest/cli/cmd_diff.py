"""``manifest diff``: two manifests side by side."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from ..checks.diff import compare, differences, render_json, render_text
from ..core.problems import EXIT_INVALID, EXIT_OK, BadRequest, InvalidManifest
from ..spec.validation import load_valid


@dataclass(frozen=True)
class DiffArgs:
    """Every option of ``manifest diff``."""

    a: str
    b: str
    fmt: str
    only_differences: bool


def _valid(path: str) -> Any:
    """A manifest's data; an invalid one is bad input here (exit 2), so that 1 means "they differ"."""
    try:
        return load_valid(path).data
    except InvalidManifest as exc:
        raise BadRequest(exc.problems) from None


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--only-differences", is_flag=True, help="Show only the rows that differ.")
def command(**kwargs: Any) -> None:
    """Compare two manifests side by side: run, params, metrics, data, code, environment, models.

    Identity and provenance are shown but do not count. Exit status: 0 no difference, 1
    differences, 2 usage error, or a file that cannot be read or is not a valid manifest.
    """
    args = DiffArgs(**kwargs)
    rows = compare(_valid(args.a), _valid(args.b))
    text = render_json(rows) if args.fmt == "json" else render_text(rows, (args.a, args.b), only_differences=args.only_differences)
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID if differences(rows) else EXIT_OK)

"""``manifest diff``: two manifests side by side."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from ..checks.diff import compare, differences, render_json, render_text
from ..core.problems import EXIT_INVALID, EXIT_OK
from ..spec.validation import load_valid


@dataclass(frozen=True)
class DiffArgs:
    """Every option of ``manifest diff``."""

    a: str
    b: str
    fmt: str
    only_differences: bool


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--only-differences", is_flag=True, help="Show only the rows that differ.")
def command(**kwargs: Any) -> None:
    """Compare two manifests side by side: run, params, metrics, data, code, environment, models.

    Identity and provenance are shown but do not count. Exit status: 0 no difference, 1
    differences (or an invalid manifest), 2 usage error or unreadable file.
    """
    args = DiffArgs(**kwargs)
    rows = compare(load_valid(args.a).data, load_valid(args.b).data)
    text = render_json(rows) if args.fmt == "json" else render_text(rows, (args.a, args.b), only_differences=args.only_differences)
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID if differences(rows) else EXIT_OK)

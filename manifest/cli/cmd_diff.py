"""``manifest diff``: two manifests side by side."""

from __future__ import annotations

import sys

import click

from ..checks.diff import compare, differences, render_json, render_text
from ..core.problems import EXIT_INVALID, EXIT_OK
from ..spec.validation import load_valid


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--only-differences", is_flag=True, help="Show only the rows that differ.")
def command(a: str, b: str, fmt: str, only_differences: bool) -> None:
    """Compare two manifests side by side: run, params, metrics, data, code, environment, models.

    Identity and provenance are shown but do not count. Exit status: 0 no difference, 1
    differences (or an invalid manifest), 2 usage error or unreadable file.
    """
    rows = compare(load_valid(a).data, load_valid(b).data)
    click.echo(render_json(rows) if fmt == "json" else render_text(rows, (a, b), only_differences=only_differences), nl=False)
    sys.exit(EXIT_INVALID if differences(rows) else EXIT_OK)

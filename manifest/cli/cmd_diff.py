"""``manifest diff``: two manifests side by side."""

from __future__ import annotations

import os
import shutil
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
    all_fields: bool


def _width() -> int | None:
    """How wide the table may be. On a terminal, its width (``$COLUMNS`` when set, as
    :func:`shutil.get_terminal_size` reads it). Elsewhere (a pipe, a file) ``$COLUMNS`` when set,
    else no limit: output kept for later or read by a program keeps every value whole, rather than
    cut to the 80 columns of a terminal that is not there."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return shutil.get_terminal_size().columns
    return None


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
@click.option("--all-fields", is_flag=True, help="Also show the fields that change from run to run (ids, times, names, experiment, model ids and registry versions), and count them: a run and its reproduction then differ.")
def command(**kwargs: Any) -> None:
    """Compare two manifests side by side: run, params, metrics, data, code, environment, models.

    Fields that change from run to run whatever the run did (the manifest's id, when it was
    written and what it was derived from, the tracking system's run id and experiment, the run's
    name and start and end times, model ids, uris, creation times and registry versions) are left
    out and do not count, so that a run and its faithful reproduction compare equal; --all-fields
    shows and counts them. JSON output lists every row, with "volatile" for those fields and
    "counts" for the rows that take part in the verdict.

    Text fits the terminal's width ($COLUMNS when set; no limit when the output is not a terminal
    and $COLUMNS is not set): long values are cut with "…", never wrapped.

    Exit status: 0 no difference, 1 differences, 2 usage error, or a file that cannot be read or
    is not a valid manifest.
    """
    args = DiffArgs(**kwargs)
    rows = compare(_valid(args.a), _valid(args.b))
    if args.fmt == "json":
        text = render_json(rows, all_fields=args.all_fields)
    else:
        text = render_text(rows, (args.a, args.b), width=_width(), all_fields=args.all_fields, only_differences=args.only_differences)
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID if differences(rows, all_fields=args.all_fields) else EXIT_OK)

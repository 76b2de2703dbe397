"""``manifest schema``: print the JSON Schema of a spec version."""

from __future__ import annotations

import sys

import click

from ..core.problems import EXIT_USAGE
from ..core.versions import KNOWN_VERSIONS, LATEST_VERSION, schema_text


@click.command("schema")
@click.option("--version", "version", default=None, metavar="X.Y", help="Spec version (default: the latest).")
def command(version: str | None) -> None:
    """Print the JSON Schema of a spec version."""
    v = version or LATEST_VERSION
    if v not in KNOWN_VERSIONS:
        click.echo(f"manifest: unknown spec version {v!r}; this tool knows {', '.join(KNOWN_VERSIONS)}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(schema_text(v), nl=False)

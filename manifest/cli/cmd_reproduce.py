"""``manifest reproduce``: re-run a manifest's run and judge every metric."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..core.problems import EXIT_INVALID, EXIT_OK
from .app import to_stderr, tracking_uri_option


@click.command("reproduce")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--workdir", type=click.Path(file_okay=False), help="Where to check out the code [default: a temporary directory].")
@click.option("--repo", type=click.Path(file_okay=False), help="Local repository holding the commit [default: the one around the current directory, else the recorded URL].")
@tracking_uri_option("Where the new run is logged [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].")
@click.option("--timeout", type=float, default=None, help="Seconds the command may take.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(path: str, workdir: str | None, repo: str | None, tracking_uri: str | None, timeout: float | None, fmt: str) -> None:
    """Re-run a manifest's run from its recorded code and params, and compare every metric.

    The report (metric, original, reproduced, difference, tolerance, verdict) goes to standard
    output; the command's own output to standard error. Exit status: 0 every metric within
    tolerance, 1 a metric differs or is missing (or the manifest is invalid), 2 usage error, 3
    tracking store unreachable, 7 the run could not be re-executed (no git, unknown commit, missing
    diff, command failed).
    """
    from ..tracking.reproduce import REPORTERS, reproduce  # lazy: the tracking layer imports MLflow (~1.5 s)

    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        result = reproduce(path, workdir=Path(workdir) if workdir else None, tracking_uri=tracking_uri, repo=Path(repo) if repo else None, timeout=timeout, log=to_stderr)
    out.write(REPORTERS[fmt](result))
    out.flush()
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)

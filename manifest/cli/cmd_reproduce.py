"""``manifest reproduce``: re-run a manifest's run and judge every metric.

The command comes from a document, so it is shown and run only after ``--yes`` or a "yes" typed
at the terminal; without a terminal and without ``--yes`` nothing runs and the exit status is 2.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..core.problems import EXIT_INVALID, EXIT_OK
from .app import MaskedStream, to_stderr, tracking_uri_option


@dataclass(frozen=True)
class ReproduceArgs:
    """Every option of ``manifest reproduce``."""

    path: str
    workdir: str | None
    repo: str | None
    tracking_uri: str | None
    timeout: float | None
    fmt: str
    yes: bool
    pass_env: tuple[str, ...]
    experiment: str | None

    def check(self) -> None:
        """Refuse at once, before anything is read or cloned, when nobody can confirm."""
        if not self.yes and not sys.stdin.isatty():
            raise click.UsageError("reproduce runs the command a manifest names: review it (it is printed first) and pass --yes; there is no terminal to ask")

    def confirm(self, plan: Any) -> bool:
        return self.yes or click.confirm("manifest: run this command?", default=False, err=True)


@click.command("reproduce")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--workdir", type=click.Path(file_okay=False), help="Where to check out the code [default: a temporary directory].")
@click.option("--repo", type=click.Path(file_okay=False), help="Local repository holding the commit [default: the one around the current directory, else the recorded URL].")
@tracking_uri_option("Where the re-run is copied when the command ends [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db]; the command itself logs into a private temporary store.")
@click.option("--timeout", type=float, default=None, help="Seconds the command may take.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--yes", "-y", is_flag=True, help="Run the command without asking (it is printed first).")
@click.option("--pass-env", "pass_env", multiple=True, metavar="NAME", help="Also give the command this environment variable (repeatable); by default it gets only an allow-list and no credentials.")
@click.option("--experiment", metavar="NAME", help="Experiment of the target store the re-run goes to, created when missing [default: '<source experiment> (reproductions)']. Any experiment works, also when the script calls mlflow.set_experiment. The re-run is tagged as a reproduction of the source run either way.")
def command(**kwargs: Any) -> None:
    """Re-run a manifest's run from its recorded code and params, and compare every metric.

    First prints the repository and commit, the working directory inside the checkout, the exact
    argument list (run without a shell) and the names of the environment variables the command
    gets; runs it only after --yes or a "yes" at the terminal. The command logs into a private
    temporary store; when it ends, the re-run is copied into the tracking store (experiment
    '<source experiment> (reproductions)' unless --experiment says otherwise) and tagged as a
    reproduction there: FAILED when the command fails, KILLED on Ctrl-C or SIGTERM. The report
    (metric, original, reproduced, difference, tolerance, verdict) goes to standard output; the
    command's own output to standard error. Exit status: 0 every metric within tolerance, 1 a
    metric differs or is missing (or the manifest is invalid), 2 usage error (also: no terminal
    and no --yes), 3 tracking store unreachable, 7 the run could not be re-executed (no git,
    unknown commit, missing diff, command failed or not confirmed).
    """
    args = ReproduceArgs(**kwargs)
    args.check()
    from ..tracking.reproduce import REPORTERS, reproduce  # lazy: the tracking layer imports MLflow (~1.5 s)

    out = sys.stdout
    with contextlib.redirect_stdout(MaskedStream(sys.stderr)):
        result = reproduce(
            args.path, workdir=Path(args.workdir) if args.workdir else None, tracking_uri=args.tracking_uri,
            repo=Path(args.repo) if args.repo else None, timeout=args.timeout, confirm=args.confirm, pass_env=args.pass_env, log=to_stderr,
            experiment=args.experiment,
        )
    out.write(REPORTERS[args.fmt](result))
    out.flush()
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)

"""The ``manifest`` group: one place that turns every failure into one line and an exit code,
and the options and helpers that several commands share. Click only; the work is done by the API.
"""

from __future__ import annotations

import importlib
import io
import signal
import sys
from typing import Any, Callable, TextIO

import click

from ..__about__ import __version__
from ..core.problems import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ManifestError
from ..core.text import one_line
from ..core.uris import mask_text
from ..core.versions import KNOWN_VERSIONS

#: command name -> the module whose ``command`` it is. A command's module is imported only when
#: that command runs (or ``--help`` lists them all): importing every command's module up front
#: made ``import manifest.cli`` take 0.97 s under ``-X importtime`` (importlib.metadata, urllib and
#: multiprocessing among it), against 0.27 s for the flat layout, measured on a busy machine.
COMMANDS = {
    "validate": "manifest.cli.cmd_validate",
    "schema": "manifest.cli.cmd_schema",
    "diff": "manifest.cli.cmd_diff",
    "export": "manifest.cli.cmd_export",
    "import": "manifest.cli.cmd_import",
    "reproduce": "manifest.cli.cmd_reproduce",
    "verify": "manifest.cli.cmd_verify",
    "env": "manifest.cli.cmd_env",
    "digest": "manifest.cli.cmd_digest",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: whatever is half done is cleaned up on the way out."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


class ManifestGroup(click.Group):
    """Commands loaded when used; any unexpected exception becomes one line and exit code 70,
    never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return importlib.import_module(COMMANDS[cmd_name]).command  # type: ignore[no-any-return]

    def invoke(self, ctx: click.Context) -> Any:
        signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except ManifestError as exc:
            for problem in exc.problems:
                click.echo(mask_text(f"manifest: {problem.format()}"), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while leaving prints no traceback
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            click.echo(f"manifest: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}", err=True)
            sys.exit(143 if isinstance(exc, Terminated) else 130)
        except BrokenPipeError:
            sys.exit(EXIT_OK)
        except OSError as exc:  # a path the user gave that cannot be written or read: usage, not a bug
            where = f"{one_line(str(exc.filename))}: " if exc.filename else ""
            click.echo(f"manifest: {where}{exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            click.echo(f"manifest: internal error: {type(exc).__name__}: {one_line(str(exc))} (please report this)", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=ManifestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="manifest", message="%(prog)s %(version)s (spec versions: " + ", ".join(KNOWN_VERSIONS) + ")")
def main() -> None:
    """Check, export and import experiment manifests: reproducible descriptions of ML runs."""


def parse_size(text: str) -> int:
    """``64M``, ``1G``, ``500k`` or a number of bytes."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().rstrip("ib").rstrip("b")
    mult = units.get(t[-1:], 1)
    num = t[:-1] if t[-1:] in units else t
    try:
        return int(float(num) * mult)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 64M or 1G") from None


def to_stderr(text: str) -> None:
    """The log function every command gives the API: people's messages go to standard error,
    with control characters from documents (names, params, paths) escaped."""
    click.echo(mask_text(one_line(text)), err=True)


def tracking_uri_option(help: str = "Tracking server or store [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].") -> Callable[[Any], Any]:
    return click.option("--tracking-uri", metavar="URI", help=help)


def jobs_option() -> Callable[[Any], Any]:
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, show_default=True, help="Requests in flight at once against a tracking server, each on its own connection.")


def progress_printer() -> Callable[[str, int], None] | None:
    """A progress callback drawing on standard error when it is a terminal (not when piped)."""
    if not sys.stderr.isatty():
        return None
    counts: dict[str, int] = {}

    def tick(what: str, n: int) -> None:
        counts[what] = counts.get(what, 0) + n
        sys.stderr.write(f"\r  {what}: {counts[what]} fetched")
        sys.stderr.flush()

    return tick


class MaskedStream(io.TextIOBase):
    """Where MLflow's own prints go (standard error, never standard output), credentials masked:
    MLflow prints "View run ... at: URL" with the tracking URI as given, password included."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(mask_text(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

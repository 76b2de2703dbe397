"""The ``manifest`` group: one place that turns every failure into one line and an exit code,
and the options and helpers that several commands share. Click only; the work is done by the API.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import signal
import sys
import threading
import time
from typing import Any, Callable, TextIO

import click

from ..__about__ import __version__
from ..core.problems import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ManifestError
from ..core.progress import Progress
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
    "keygen": "manifest.cli.cmd_keygen",
    "sign": "manifest.cli.cmd_sign",
    "convert": "manifest.cli.cmd_convert",
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
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    t = text.strip().lower().rstrip("ib").rstrip("b")
    mult = units.get(t[-1:], 1)
    num = t[:-1] if t[-1:] in units else t
    try:
        return int(float(num) * mult)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 64M or 1G") from None


class SizeType(click.ParamType):
    """A size option (:func:`parse_size`) as a click type, so its value arrives as bytes."""

    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        return value if isinstance(value, int) else parse_size(str(value))


def to_stderr(text: str) -> None:
    """The log function every command gives the API: people's messages go to standard error,
    with control characters from documents (names, params, paths) escaped."""
    click.echo(mask_text(one_line(text)), err=True)


def tracking_uri_option(help: str = "Tracking server or store [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].") -> Callable[[Any], Any]:
    return click.option("--tracking-uri", metavar="URI", help=help)


def jobs_option() -> Callable[[Any], Any]:
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, show_default=True, help="Requests in flight at once against a tracking server, each on its own connection.")


def quiet_option() -> Callable[[Any], Any]:
    return click.option("--quiet", "-q", is_flag=True, help="Print only warnings and errors on standard error (no progress, no line per run).")


def report_option() -> Callable[[Any], Any]:
    return click.option("--report", "report", type=click.Choice(["text", "json"]), default="text", show_default=True, help="What standard output gets: text, or one JSON document for scripts (source and new ids, files).")


class TerminalBar(Progress):
    """A progress bar on standard error, one line redrawn in place, cleared when done; message
    lines go above it. Drawn only on a terminal (never into a pipe or a log file)."""

    def __init__(self, stream: TextIO, *, enabled: bool, width: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.enabled, self.clock = stream, enabled, clock
        self.width = width or _columns(stream)
        self.total, self.done, self.unit, self.label, self.text = 0, 0, "", "", ""
        self.shown = False
        self._last = -1.0
        #: runs are exported and imported in several threads, each of which may log a line
        self._lock = threading.RLock()

    def start(self, total: int, unit: str) -> None:
        with self._lock:
            self.total, self.done, self.unit, self.label, self.text = total, 0, unit, "", ""
            self._draw(force=True)

    def advance(self, label: str = "") -> None:
        with self._lock:
            self.done += 1
            self.label, self.text = label, ""  # what the last run was doing is not the next one's
            self._draw(force=True)

    def detail(self, text: str) -> None:
        with self._lock:
            self.text = text
            self._draw()

    def finish(self) -> None:
        with self._lock:
            self._clear()
            self.total = 0

    def log(self, line: str) -> None:
        """A message line, printed above the bar (which is redrawn under it)."""
        self.above(lambda: self.stream.write(line + "\n"))

    def above(self, write: Callable[[], Any]) -> None:
        """Write something (to this stream or to standard output, on the same terminal) where the
        bar was, then draw the bar again under it."""
        with self._lock:
            was = self.shown
            self._clear()
            write()
            sys.stdout.flush()
            self.stream.flush()
            if was:
                self._draw(force=True)

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def _draw(self, *, force: bool = False) -> None:
        now = self.clock()
        if not self.enabled or self.total <= 0 or (not force and now - self._last < 0.1):
            return
        self._last = now
        cells = 20
        full = cells * self.done // self.total
        head = f"[{'#' * full}{'.' * (cells - full)}] {self.done}/{self.total} {self.unit}"
        tail = one_line(self.text or self.label)
        line = f"{head}  {tail}" if tail else head
        self.stream.write("\r\x1b[K" + line[: max(10, self.width - 1)])
        self.stream.flush()
        self.shown = True


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` draws on ($COLUMNS first, as ``shutil`` does)."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return shutil.get_terminal_size((80, 20)).columns


def messages(quiet: bool) -> tuple[TerminalBar, Callable[[str], None]]:
    """The bar of a long command and its log function: people's messages on standard error,
    escaped, above the bar; with ``quiet`` only warnings, and no bar."""
    bar = TerminalBar(sys.stderr, enabled=sys.stderr.isatty() and not quiet)

    def say(text: str) -> None:
        if quiet and not text.startswith("warning:"):
            return
        bar.log(mask_text(one_line(text)))

    return bar, say


#: What MLflow prints on standard output for people at its own console ("🏃 View run NAME at:
#: URL", "🧪 View experiment at: URL"): never shown by this tool, whose output is for its user.
_MLFLOW_CHATTER = ("🏃 View run ", "🧪 View experiment ")


class MaskedStream(io.TextIOBase):
    """Where MLflow's own prints go (standard error, never standard output), credentials masked;
    its "View run ..." lines, which name the tracking URI as given, are dropped."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if not line.startswith(_MLFLOW_CHATTER):
                self.target.write(mask_text(line) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._partial and not self._partial.startswith(_MLFLOW_CHATTER):
            self.target.write(mask_text(self._partial))
        self._partial = ""
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

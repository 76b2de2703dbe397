"""Problems found in a manifest, the exceptions that carry them, and the CLI's exit codes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .codes import Severity, info
from .text import one_line

#: Everything checked, nothing wrong (warnings allowed).
EXIT_OK = 0
#: At least one document is not a valid manifest.
EXIT_INVALID = 1
#: Bad usage, or input that could not be read at all (missing path, over the size limit, I/O error).
EXIT_USAGE = 2
#: The tracking server or store cannot be reached, or refused the credentials.
EXIT_TRACKING = 3
#: A run, experiment or model that was asked for does not exist (or is deleted).
EXIT_NOT_FOUND = 4
#: The request was refused to protect data (a RUNNING run, an existing output, a duplicate import).
EXIT_REFUSED = 5
#: A file next to a manifest is missing or differs from its size or digest (import).
EXIT_INTEGRITY = 6
#: A run could not be re-executed: no git, unknown commit, missing diff, failing command (reproduce).
EXIT_CANNOT_RUN = 7
#: A bug in this tool (an unexpected exception), reported in one line instead of a traceback.
EXIT_INTERNAL = 70


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth noting about) a document.

    ``code`` is one of the registered codes (:mod:`manifest.core.codes`), which also fixes the
    severity; ``pointer`` is an RFC 6901 JSON pointer into the document (``""`` is the whole
    document, ``None`` when no location applies); ``line`` and ``column`` are 1-based positions in
    the source text when known.
    """

    code: str
    message: str
    pointer: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = None  # type: ignore[assignment]  # filled from the registry
    file: str | None = None

    def __post_init__(self) -> None:
        registered = info(self.code).severity
        if self.severity is None:
            object.__setattr__(self, "severity", registered)
        elif self.severity != registered:
            raise ValueError(f"problem code {self.code!r} is registered as {registered}, not {self.severity}")

    def at(self, line: int | None, column: int | None) -> Problem:
        """A copy of this problem placed at ``line:column``."""
        return Problem(self.code, self.message, self.pointer, line, column, self.severity, self.file)

    def in_file(self, file: str | None) -> Problem:
        """A copy of this problem attributed to ``file``."""
        return Problem(self.code, self.message, self.pointer, self.line, self.column, self.severity, file)

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def format(self) -> str:
        """The one way a problem is shown to people: ``file:line:col: /pointer: message``.

        Without a file only the message is shown (it then names what it is about). Control
        characters from the document are escaped, so that one problem is always one line.
        """
        tag = "warning: " if self.severity == "warning" else ""
        if self.file is None:
            return one_line(tag + self.message)
        head = one_line(self.file)
        if self.line is not None:
            head += f":{self.line}:{self.column or 1}"
        parts = [head]
        if self.pointer is not None:
            parts.append(one_line(self.pointer) or "/")
        parts.append(one_line(tag + self.message))
        return ": ".join(parts)


class ManifestError(Exception):
    """Base of every error this package raises on purpose; carries its problems."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem] | Problem, *, file: str | None = None) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = [p if p.file or not file else p.in_file(file) for p in problems]
        super().__init__("; ".join(p.format() for p in self.problems))


class InvalidManifest(ManifestError):
    """The document was read but is not a valid manifest (syntax, structure or rules)."""

    exit_code = EXIT_INVALID


class TrackingError(ManifestError):
    """The tracking server or store cannot be reached, or refused the credentials."""

    exit_code = EXIT_TRACKING


class NotFound(ManifestError):
    """A run, experiment or model does not exist, or is deleted."""

    exit_code = EXIT_NOT_FOUND


class Refused(ManifestError):
    """The operation was refused to protect data; the message says which option overrides it."""

    exit_code = EXIT_REFUSED


class BadRequest(ManifestError):
    """The request itself is wrong (an option, a filter expression): a usage error."""

    exit_code = EXIT_USAGE


class IntegrityError(ManifestError):
    """A file next to the manifest is not what the manifest says (missing, size or digest)."""

    exit_code = EXIT_INTEGRITY


class CannotRun(ManifestError):
    """The run could not be re-executed: no code, unknown commit, missing diff, failing command."""

    exit_code = EXIT_CANNOT_RUN


class UnreadableInput(ManifestError):
    """The input could not be read at all: it does not exist, is too large, or failed to open."""

    exit_code = EXIT_USAGE


@dataclass
class Report:
    """The outcome of checking one document."""

    file: str
    kind: str = "manifest"
    problems: list[Problem] = field(default_factory=list)
    unreadable: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors and not self.unreadable

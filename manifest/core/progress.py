"""Progress of a long export or import, as the API reports it: runs done out of a total, and
what the current run is doing. The base class shows nothing (the API's default, for scripts and
tests); the command line draws a bar on a terminal (:class:`manifest.cli.app.TerminalBar`)."""

from __future__ import annotations


class Progress:
    """Receives progress; every method does nothing here."""

    def start(self, total: int, unit: str) -> None:
        """``total`` items (``unit``: "runs") are about to be processed."""

    def advance(self, label: str = "") -> None:
        """One more item is done; ``label`` names it."""

    def detail(self, text: str) -> None:
        """What the current item is doing (``loss: 12000 points``); replaced by the next."""

    def finish(self) -> None:
        """Everything is done (or stopped): whatever was drawn is cleared."""


#: The progress that shows nothing.
SILENT = Progress()

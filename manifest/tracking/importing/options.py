"""What an import is asked to do, and the batch sizes MLflow accepts per request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ...core.progress import SILENT, Progress

#: Most params, tags and metric points MLflow takes in one ``log_batch``.
MAX_PARAMS, MAX_TAGS, MAX_METRICS = 100, 100, 1000
#: Most entities (params, tags and metric points together) in one ``log_batch``.
MAX_ENTITIES = 1000


@dataclass
class ImportOptions:
    """Options of ``manifest import``."""

    experiment: str | None = None
    allow_duplicate: bool = False
    register_model: str | None = None
    #: ``log-batch`` requests in flight at once against a tracking server, each on its own
    #: connection so that a multi-process server spreads them over its workers (SQL stores are
    #: written in one transaction instead).
    workers: int = 4
    log: Callable[[str], None] = lambda s: None
    #: Skip a manifest whose run the target store already holds (resume an interrupted import).
    skip_existing: bool = False
    #: Recreate the registered models the manifests (or the export index) record.
    registry: bool = True
    #: Add to a registered model that already has versions (appended in source order, aliases moved).
    registry_merge: bool = False
    #: Called with (manifest file, new run id) as soon as each run is imported.
    imported: Callable[[str, str], None] = lambda f, r: None
    #: Called with (manifest file, run id in the store) for each run skipped (``skip_existing``).
    skipped: Callable[[str, str], None] = lambda f, r: None
    #: Called with (registered model, source version, new version) for each version made.
    registered: Callable[[str, int, str], None] = lambda m, s, n: None
    #: Called with the name of each experiment created from a whole-store export's index.
    experiment_created: Callable[[str], None] = lambda n: None
    #: Where the import reports runs done (nothing by default).
    progress: Progress = SILENT
    #: Keep importing the other runs when one fails (each failure named at the end); a whole-store
    #: export directory is imported this way.
    keep_going: bool = False
    #: Set (by the importer, on Ctrl-C or SIGTERM) to make runs being imported in other threads
    #: stop at their next request and clean up (:class:`Stopped`).
    stop: threading.Event = field(default_factory=threading.Event)

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped("the import was interrupted")


class Stopped(KeyboardInterrupt):
    """Raised in a thread importing a run when the import as a whole is interrupted: the run is
    cleaned up as after Ctrl-C."""


def chunks(items: list[Any], n: int) -> list[list[Any]]:
    """``items`` in consecutive slices of at most ``n``."""
    return [items[i : i + n] for i in range(0, len(items), n)]

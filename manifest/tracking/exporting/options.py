"""What an export is asked to do, and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ...core.progress import SILENT, Progress

#: Histories longer than this many points go to a sidecar file (``--history auto``).
INLINE_MAX_POINTS = 10_000

HistoryMode = Literal["auto", "inline", "sidecar"]


@dataclass
class ExportOptions:
    history: HistoryMode = "auto"
    inline_max_points: int = INLINE_MAX_POINTS
    allow_running: bool = False
    #: Copy the models' files next to the manifest (``models/<id>/``) so an import can recreate them.
    with_models: bool = False
    #: Copy the run's artifacts next to the manifest (``artifacts/``).
    with_artifacts: bool = False
    #: History requests in flight at once (see :func:`manifest.tracking.histories.fetch_histories`).
    workers: int = 4
    #: Where the export reports runs done and histories fetched (nothing by default).
    progress: Progress = SILENT


@dataclass
class Exported:
    """A manifest and the files that travel with it (relative path -> bytes or a file to copy)."""

    manifest: dict[str, Any]
    files: dict[str, bytes | Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tmp: Any = None

    def cleanup(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

"""What one run of the many-runs part is: its sizes and repetitions, the work directory, the servers,
the source experiments, the kept exports (the import inputs), and the results its sections share."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .bulk_servers import Servers

if TYPE_CHECKING:
    from .exim_cases import EximCase


@dataclass
class Sizes:
    """``n`` runs in the source experiment, ``n_small`` in the one for the memory comparison;
    ``reps`` runs of each timed command; ``threads`` making the sources."""

    n: int
    n_small: int
    reps: int
    threads: int = 8


@dataclass
class Source:
    """A source experiment in one server: its name and run id -> generator index."""

    experiment: str
    prefix: str
    ids: dict[str, int]
    made_s: float = 0.0
    check: dict[str, Any] = field(default_factory=dict)


class Context:
    def __init__(self, *, sizes: Sizes, stores: list[str], work: Path, log: Callable[[str], None]) -> None:
        self.sizes, self.stores, self.work, self.log = sizes, stores, work, log
        self.cwd = work / "cwd"  # children run here: a stray ./mlruns or mlflow.db lands here
        self.servers = Servers(work, stores)
        self.sources: dict[tuple[str, str], Source] = {}  # (store, "all" | "small") -> source
        self.exports: dict[tuple[str, str, str], Path] = {}  # (store, "all" | "small", "ours" | "peer") -> first good export
        self.results: dict[str, Any] = {}
        self.findings: list[str] = []
        self.all_cases: list[tuple[str, EximCase]] = []

    def prepare(self) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.cwd.mkdir(parents=True)

    def fresh(self, what: str) -> str:
        return f"bulk-{what}-{uuid.uuid4().hex[:8]}"

    def out_dir(self, *parts: str) -> Path:
        """An empty place for an export (its parent exists, it does not)."""
        d = self.work.joinpath("out", *parts)
        if d.exists():
            shutil.rmtree(d)
        d.parent.mkdir(parents=True, exist_ok=True)
        return d

    def keep_or_drop(self, key: tuple[str, str, str], d: Path) -> None:
        """Keep the first good export of each tool as the import input; delete later ones (disk)."""
        if key not in self.exports:
            self.exports[key] = d
        elif self.exports[key] != d:
            shutil.rmtree(d, ignore_errors=True)

    def parameters(self) -> dict[str, Any]:
        s = self.sizes
        return {"runs": s.n, "runs_small": s.n_small, "reps": s.reps, "stores": self.stores, "source_threads": s.threads,
                "per_run": {"params": 20, "metrics": 5, "points_per_metric": 20, "tags": 5, "artifacts": 1}}

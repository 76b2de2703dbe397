"""What one export/import benchmark run is: the size of the source run (and of the 1M-point run), the
repetitions per kind of case, and the state its sections share (stores, checks, results, findings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .common import ROOT
from .exim_checks import Checker, Signature, expected_signature
from .exim_stores import Stores
from .mlflow_task import metric_keys
from .mlflow_task import params as source_params

if TYPE_CHECKING:
    from .exim_cases import EximCase


@dataclass
class Shape:
    """The source run: ``n_params`` params + ``n_metrics`` metrics x ``n_steps`` steps; the big run
    has ``big_steps`` steps. ``want`` / ``want_params`` are what every copy of the source must hold."""

    n_params: int
    n_metrics: int
    n_steps: int
    big_steps: int
    keys: list[str] = field(init=False)
    want: Signature = field(init=False)
    want_params: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = metric_keys(self.n_metrics)
        self.want = expected_signature(self.n_metrics, self.n_steps)
        self.want_params = source_params(self.n_params)

    @classmethod
    def for_run(cls, quick: bool) -> Shape:
        return cls(n_params=100, n_metrics=5, n_steps=20_000 if quick else 50_000, big_steps=40_000 if quick else 200_000)

    @property
    def n_points(self) -> int:
        return self.n_metrics * self.n_steps

    @property
    def n_big_points(self) -> int:
        return self.n_metrics * self.big_steps


@dataclass
class Reps:
    """Runs per case: exports, points of the export sweep, imports, points of the import sweep, 1M-point cases."""

    export: int
    fetch_sweep: int
    imports: int
    import_sweep: int
    big: int


class Context:
    """The state the sections of one run share."""

    def __init__(self, *, quick: bool, reps: Reps, log: Callable[[str], None]) -> None:
        self.quick = quick
        self.reps = reps
        self.log = log
        self.stores = Stores(ROOT / ".bench" / ("exim-quick" if quick else "exim"))
        self.shape = Shape.for_run(quick)
        self.check = Checker(self.stores, self.shape.want_params)
        self.results: dict[str, Any] = {}
        self.findings: list[str] = []
        self.all_cases: list[tuple[str, EximCase]] = []  # (section, case), in the order they ran

    def parameters(self) -> dict[str, Any]:
        sh, r = self.shape, self.reps
        return {
            "quick": self.quick, "params": sh.n_params, "metrics": sh.n_metrics, "steps": sh.n_steps, "points": sh.n_points,
            "big_points": sh.n_big_points, "reps_export": r.export, "reps_export_sweep": r.fetch_sweep, "reps_import": r.imports, "reps_import_sweep": r.import_sweep, "reps_big": r.big,
        }

"""The competitors of section 2 (import of the source run into one store, a fresh experiment each
time): ours (``manifest import`` of our first export), the peer (``import-run`` of its first export),
the floor (a bare ``log_batch`` loop), and on (A) the sweep of ``import_paths`` over its workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import MANIFEST, PY, RunFailed, last_json
from .exim_cases import TASK, Built, EximCase
from .exim_checks import db_runs_of_experiment, kept_times, run_id_on_last_line
from .exim_plan import Context
from .exim_venvs import PEER_BIN


class _IntoStore:
    """A job that writes a copy of the source run into ``store``; ``check_new`` checks that copy."""

    def __init__(self, ctx: Context, store: str) -> None:
        self.ctx, self.store = ctx, store
        self.uri = ctx.stores.uri(store)
        self.cwd = ctx.stores.cwd

    def check_new(self, run_id: str) -> dict[str, Any]:
        return self.ctx.check.stored_run(self.store, run_id, self.ctx.shape.want)

    def with_times(self, out: dict[str, Any]) -> dict[str, Any]:
        out["kept_times"] = kept_times(out, self.ctx.stores.source(self.store)["check"])
        return out


class OursImport(_IntoStore):
    def __init__(self, ctx: Context, store: str, manifest_path: Path) -> None:
        super().__init__(ctx, store)
        self.manifest_path = manifest_path

    def build(self, rnd: int) -> Built:
        exp = self.ctx.stores.fresh(f"ours-{self.store}-{rnd}")
        return [MANIFEST, "import", str(self.manifest_path), "--tracking-uri", self.uri, "--experiment", exp], {}, {"cwd": self.cwd, "exp": exp}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        return self.with_times(self.check_new(run_id_on_last_line(r)))


class PeerImport(_IntoStore):
    def __init__(self, ctx: Context, store: str, peer_dir: Path) -> None:
        super().__init__(ctx, store)
        self.peer_dir = peer_dir

    def build(self, rnd: int) -> Built:
        exp = self.ctx.stores.fresh(f"peer-{self.store}-{rnd}")
        return [str(PEER_BIN / "import-run"), "--input-dir", str(self.peer_dir), "--experiment-name", exp], {"MLFLOW_TRACKING_URI": self.uri}, {"cwd": self.cwd, "exp": exp}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        runs = db_runs_of_experiment(self.ctx.stores.db(self.store), ctx["exp"])
        if len(runs) != 1:
            raise RunFailed(f"experiment {ctx['exp']} holds {len(runs)} runs after the import, expected 1")
        return self.with_times(self.check_new(runs[0]))


class FloorImport(_IntoStore):
    def build(self, rnd: int) -> Built:
        sh = self.ctx.shape
        exp = self.ctx.stores.fresh(f"floor-{self.store}-{rnd}")
        return [PY, TASK, "make", self.uri, exp, "floor", str(sh.n_params), str(sh.n_metrics), str(sh.n_steps)], {}, {"cwd": self.cwd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        j = last_json(r["stdout_tail"])
        out = self.check_new(j["run_id"])
        out["loop_s"] = j["loop_s"]
        out["calls"] = j["calls"]
        return out


class ImportSweep(_IntoStore):
    """``import_paths(..., options=ImportOptions(experiment=NEW, workers=n))`` into (A), in a fresh process."""

    def __init__(self, ctx: Context, n: int, path: Path) -> None:
        super().__init__(ctx, "A")
        self.n, self.path = n, path

    def build(self, rnd: int) -> Built:
        return [PY, TASK, "import-api", self.uri, str(self.path), self.ctx.stores.fresh(f"sweep{self.n}-{rnd}"), str(self.n)], {}, {"cwd": self.cwd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        j = last_json(r["stdout_tail"])
        out = self.check_new(j["run_id"])
        out["call_s"] = j["s"]
        return out


def import_cases(ctx: Context, store: str) -> list[EximCase]:
    """Ours, the peer (if it made an export to import; optional) and the floor, in that order."""
    srv = ctx.stores.srv(store)
    reps = ctx.reps.imports
    cases = [EximCase(f"ours_import_{store}", "ours: manifest import DIR/m.yaml --experiment NEW", reps, OursImport(ctx, store, ctx.stores.exports(store)["ours"] / "m.yaml"), server=srv)]
    peer_dir = ctx.stores.any_peer_export(store)
    if peer_dir is None:
        ctx.findings.append(f"peer import on {store}: not run, the peer produced no export to import")
    else:
        cases.append(EximCase(f"peer_import_{store}", "peer: import-run --input-dir DIR --experiment-name NEW", reps, PeerImport(ctx, store, peer_dir), server=srv, optional=True))
    cases.append(EximCase(f"floor_import_{store}", "floor: log_batch loop 1000/100 per call (fresh)", reps, FloorImport(ctx, store), server=srv))
    return cases


def import_sweep_cases(ctx: Context, workers: list[int]) -> list[EximCase]:
    path = ctx.stores.exports("A")["ours"] / "m.yaml"
    return [EximCase(f"import_sweep_{n}", f"import_paths(workers={n})", ctx.reps.import_sweep, ImportSweep(ctx, n, path), server=ctx.stores.server) for n in workers]

"""The competitors of section 1 (export of the source run from one store): ours (``manifest export``),
the peer (``export-run``), the floor (a bare ``get_metric_history`` loop), and on (A) the sweep of
``fetch_histories`` over its number of workers."""

from __future__ import annotations

from typing import Any

from .common import MANIFEST, PY
from .exim_cases import TASK, Built, EximCase
from .exim_checks import points_returned
from .exim_plan import Context
from .exim_venvs import PEER_BIN


class _FromStore:
    """A job that reads the source run of ``store``."""

    def __init__(self, ctx: Context, store: str) -> None:
        self.ctx, self.store = ctx, store
        self.src = ctx.stores.source(store)["run_id"]
        self.uri = ctx.stores.uri(store)
        self.cwd = ctx.stores.cwd


class OursExport(_FromStore):
    def build(self, rnd: int) -> Built:
        d = self.ctx.stores.out_dir(self.store, f"ours-export-{rnd}")
        d.mkdir()  # -o FILE needs its directory: a missing one is a usage error
        return [MANIFEST, "export", self.src, "--tracking-uri", self.uri, "-o", str(d / "m.yaml")], {}, {"cwd": self.cwd, "dir": d, "rnd": rnd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        sh = self.ctx.shape
        out = self.ctx.check.ours_export(ctx["dir"] / "m.yaml", sh.want, sh.n_params)
        self.ctx.stores.keep_or_drop(self.store, "ours", ctx["dir"])
        return out


class PeerExport(_FromStore):
    def build(self, rnd: int) -> Built:
        d = self.ctx.stores.out_dir(self.store, f"peer-export-{rnd}")
        return [str(PEER_BIN / "export-run"), "--run-id", self.src, "--output-dir", str(d)], {"MLFLOW_TRACKING_URI": self.uri}, {"cwd": self.cwd, "dir": d}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        sh = self.ctx.shape
        out = self.ctx.check.peer_export(ctx["dir"], sh.want, sh.n_params)
        self.ctx.stores.keep_or_drop(self.store, "peer", ctx["dir"])
        return out


class FloorExport(_FromStore):
    def build(self, rnd: int) -> Built:
        return [PY, TASK, "history", self.uri, self.src, ",".join(self.ctx.shape.keys)], {}, {"cwd": self.cwd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        j = points_returned(r, self.ctx.shape.keys, self.ctx.shape.n_steps, "get_metric_history")
        return {"loop_s": j["loop_s"], "points": j["counts"]}


class FetchSweep(_FromStore):
    """``fetch_histories(client, run_id, keys, workers=n)`` on (A), in a fresh process."""

    def __init__(self, ctx: Context, n: int) -> None:
        super().__init__(ctx, "A")
        self.n = n

    def build(self, rnd: int) -> Built:
        return [PY, TASK, "fetch-api", self.uri, self.src, ",".join(self.ctx.shape.keys), str(self.n)], {}, {"cwd": self.cwd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        j = points_returned(r, self.ctx.shape.keys, self.ctx.shape.n_steps, "fetch_histories")
        return {"call_s": j["s"], "points": j["counts"]}


def export_cases(ctx: Context, store: str) -> list[EximCase]:
    """Ours, the peer (optional: its failure is a finding) and the floor, in that order."""
    srv = ctx.stores.srv(store)
    reps = ctx.reps.export
    return [
        EximCase(f"ours_export_{store}", "ours: manifest export RUN -o DIR/m.yaml", reps, OursExport(ctx, store), server=srv),
        EximCase(f"peer_export_{store}", "peer: export-run --run-id ID --output-dir DIR", reps, PeerExport(ctx, store), server=srv, optional=True),
        EximCase(f"floor_export_{store}", "floor: get_metric_history loop (fresh process)", reps, FloorExport(ctx, store), server=srv),
    ]


def fetch_sweep_cases(ctx: Context, workers: list[int]) -> list[EximCase]:
    return [EximCase(f"fetch_sweep_{n}", f"fetch_histories(workers={n})", ctx.reps.fetch_sweep, FetchSweep(ctx, n), server=ctx.stores.server) for n in workers]

"""The two cases of section 3, ours only, on (A): ``manifest import`` of the 1,000,000-point manifest,
then ``manifest export`` of the run that import made (peak memory and wall time)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .common import MANIFEST
from .exim_cases import Built, EximCase
from .exim_checks import Signature, run_id_on_last_line
from .exim_plan import Context


class BigImport:
    """Import of ``path`` into a fresh experiment; each checked run's id is appended to ``runs``."""

    def __init__(self, ctx: Context, path: Path, sig: Signature, runs: list[str]) -> None:
        self.ctx, self.path, self.sig, self.runs = ctx, path, sig, runs

    def build(self, rnd: int) -> Built:
        stores = self.ctx.stores
        return [MANIFEST, "import", str(self.path), "--tracking-uri", stores.uri("A"), "--experiment", stores.fresh(f"big-{rnd}")], {}, {"cwd": stores.cwd}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        run_id = run_id_on_last_line(r)
        out = self.ctx.check.stored_run("A", run_id, self.sig)
        self.runs.append(run_id)
        return out


class BigExport:
    """Export of the first run :class:`BigImport` made (``runs[0]``); each export is deleted once checked."""

    def __init__(self, ctx: Context, sig: Signature, runs: list[str]) -> None:
        self.ctx, self.sig, self.runs = ctx, sig, runs

    def build(self, rnd: int) -> Built:
        stores = self.ctx.stores
        d = stores.out_dir("big", f"export-{rnd}")
        d.mkdir()  # -o FILE needs its directory: a missing one is a usage error
        return [MANIFEST, "export", self.runs[0], "--tracking-uri", stores.uri("A"), "-o", str(d / "m.yaml")], {}, {"cwd": stores.cwd, "dir": d}

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        out = self.ctx.check.ours_export(ctx["dir"] / "m.yaml", self.sig, self.ctx.shape.n_params)
        shutil.rmtree(ctx["dir"], ignore_errors=True)
        return out


def big_import_case(ctx: Context, path: Path, sig: Signature, runs: list[str]) -> EximCase:
    return EximCase("big_import", f"ours: manifest import ({ctx.shape.n_big_points:,} points)", ctx.reps.big, BigImport(ctx, path, sig, runs), server=ctx.stores.server)


def big_export_case(ctx: Context, sig: Signature, runs: list[str]) -> EximCase:
    return EximCase("big_export", f"ours: manifest export ({ctx.shape.n_big_points:,} points)", ctx.reps.big, BigExport(ctx, sig, runs), server=ctx.stores.server)

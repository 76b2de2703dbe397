"""The timed commands of the many-runs part, as jobs for :class:`~benchmarks.exim_cases.EximCase` (a
fresh process under ``_child.py``, the server's CPU time around it, the check after the clock), and
the untimed making of the source experiments."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from . import bulk_checks as checks
from .bulk_plan import Context, Source
from .bulk_servers import log_mark, requests_since
from .common import MANIFEST, PY, RunFailed, base_env, last_json
from .exim_cases import Built, EximCase
from .exim_venvs import PEER_BIN

LIST_ARTIFACTS_SAMPLE = 25  # runs per check whose artifacts are also listed through the REST API


# --------------------------------------------------------------------------- the sources (untimed)


def start_sources(ctx: Context, store: str, which: str, n: int) -> tuple[subprocess.Popen[str], Source]:
    """Start making a source experiment of ``n`` runs in ``store`` (a fresh process, not timed)."""
    src = Source(experiment=ctx.fresh(f"source-{which}-{store}"), prefix=f"{which}", ids={})
    cmd = [PY, checks.BULK_TASK, "make", ctx.servers.uri(store), src.experiment, src.prefix, str(n), str(ctx.sizes.threads)]
    return subprocess.Popen(cmd, cwd=ctx.cwd, env=base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), src


def finish_sources(ctx: Context, store: str, which: str, n: int, proc: subprocess.Popen[str], src: Source) -> Source:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RunFailed(f"making the source experiment in ({store}) failed:\n{err[-2000:]}")
    made = last_json(out)
    src.ids = {r["run_id"]: i for r in made["runs"] if (i := checks.run_index(r["name"])) is not None}
    src.made_s = made["s"]
    src.check = checks.stored_experiment(ctx.servers.db(store), src.experiment, n, ctx.servers.art(store))
    ctx.sources[(store, which)] = src
    return src


# --------------------------------------------------------------------------- the jobs


class _Job:
    """A timed command against ``store``; the server's access log is marked when its command is
    built, and the requests it logged since are counted first thing in the check."""

    def __init__(self, ctx: Context, store: str, which: str) -> None:
        self.ctx, self.store, self.which = ctx, store, which
        self.uri = ctx.servers.uri(store)
        self.src = ctx.sources[(store, which)]
        self.n = len(self.src.ids)
        self.mark = 0

    def marked(self, built: Built) -> Built:
        self.mark = log_mark(self.ctx.servers.srv[self.store])
        return built

    def requests(self) -> dict[str, Any]:
        return requests_since(self.ctx.servers.srv[self.store], self.mark)


class OursExport(_Job):
    def build(self, rnd: int) -> Built:
        d = self.ctx.out_dir(self.store, self.which, f"ours-export-{rnd}")
        return self.marked(([MANIFEST, "export", "--experiment", self.src.experiment, "--with-artifacts", "--tracking-uri", self.uri, "-o", str(d)], {}, {"cwd": self.ctx.cwd, "dir": d}))

    def check(self, r: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        req = self.requests()
        out = checks.ours_export(c["dir"], self.src.ids) | {"requests": req}
        self.ctx.keep_or_drop((self.store, self.which, "ours"), c["dir"])
        return out


class PeerExport(_Job):
    def build(self, rnd: int) -> Built:
        d = self.ctx.out_dir(self.store, self.which, f"peer-export-{rnd}")
        return self.marked(([str(PEER_BIN / "export-experiment"), "--experiment", self.src.experiment, "--output-dir", str(d)], {"MLFLOW_TRACKING_URI": self.uri}, {"cwd": self.ctx.cwd, "dir": d}))

    def check(self, r: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        req = self.requests()
        out = checks.peer_export(c["dir"], self.src.ids) | {"requests": req}
        self.ctx.keep_or_drop((self.store, self.which, "peer"), c["dir"])
        return out


class _Import(_Job):
    """An import of a kept export into a fresh experiment of the same server. Before each later
    round, the previous round's experiment is deleted (untimed; its runs are then marked deleted),
    so that every round runs the same command against the same store contents: our import refuses
    a run that the store already holds as an active imported run."""

    who = ""

    def __init__(self, ctx: Context, store: str, which: str, input_dir: Path) -> None:
        super().__init__(ctx, store, which)
        self.input_dir = input_dir
        self.previous: str | None = None

    def _target(self, rnd: int) -> str:
        if self.previous is not None:
            p = subprocess.run([PY, checks.BULK_TASK, "delete-experiment", self.uri, self.previous], capture_output=True, text=True, env=base_env(), cwd=self.ctx.cwd)
            if p.returncode != 0:
                raise RunFailed(f"deleting experiment {self.previous} before the next round failed:\n{p.stderr[-1500:]}")
        self.previous = self.ctx.fresh(f"{self.who}-{self.which}-{self.store}-{rnd}")
        return self.previous

    def check(self, r: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        req = self.requests()
        db = self.ctx.servers.db(self.store)
        out = checks.stored_experiment(db, c["exp"], self.n, self.ctx.servers.art(self.store))
        out["requests"] = req
        out["list_artifacts"] = checks.listed_artifacts(self.uri, checks.sample(checks.active_runs(db, c["exp"]), LIST_ARTIFACTS_SAMPLE), self.ctx.cwd)
        out["experiment"] = c["exp"]
        return out


class OursImport(_Import):
    who = "ours"

    def build(self, rnd: int) -> Built:
        exp = self._target(rnd)
        return self.marked(([MANIFEST, "import", str(self.input_dir), "--tracking-uri", self.uri, "--experiment", exp], {}, {"cwd": self.ctx.cwd, "exp": exp}))


class PeerImport(_Import):
    who = "peer"

    def build(self, rnd: int) -> Built:
        exp = self._target(rnd)
        return self.marked(([str(PEER_BIN / "import-experiment"), "--experiment-name", exp, "--input-dir", str(self.input_dir)], {"MLFLOW_TRACKING_URI": self.uri}, {"cwd": self.ctx.cwd, "exp": exp}))


# --------------------------------------------------------------------------- the cases


def export_cases(ctx: Context, store: str, which: str = "all", *, peer: bool = True) -> list[EximCase]:
    srv = ctx.servers.srv[store]
    n, reps = len(ctx.sources[(store, which)].ids), ctx.sizes.reps
    cases = [EximCase(f"ours_export_{which}_{store}", f"ours: manifest export --experiment ({n} runs)", reps, OursExport(ctx, store, which), server=srv)]
    if peer:
        cases.append(EximCase(f"peer_export_{which}_{store}", f"peer: export-experiment ({n} runs)", reps, PeerExport(ctx, store, which), server=srv, optional=True))
    return cases


def import_cases(ctx: Context, store: str, which: str = "all", *, peer: bool = True) -> list[EximCase]:
    """Ours (of our first good export) and the peer (of its first good export, if it made one)."""
    srv = ctx.servers.srv[store]
    n, reps = len(ctx.sources[(store, which)].ids), ctx.sizes.reps
    cases = [EximCase(f"ours_import_{which}_{store}", f"ours: manifest import DIR ({n} runs)", reps, OursImport(ctx, store, which, ctx.exports[(store, which, "ours")]), server=srv)]
    peer_dir = ctx.exports.get((store, which, "peer"))
    if peer and peer_dir is None:
        ctx.findings.append(f"peer import-experiment into ({store}): not run, the peer produced no good export to import")
    elif peer and peer_dir is not None:
        cases.append(EximCase(f"peer_import_{which}_{store}", f"peer: import-experiment ({n} runs)", reps, PeerImport(ctx, store, which, peer_dir), server=srv, optional=True))
    return cases

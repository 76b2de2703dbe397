"""The three stores of the export/import part and the work directory they live in: (A) a local server
with MLflow's defaults, (A1) the same with ``--workers 1``, (B) an embedded SQLite file; what each
one's URI and database file are, and the per-store record of its source run and kept exports."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from .exim_servers import Server

STORES = ("A", "A1", "B")
WHAT = {"A": "local server (MLflow's default: 4 workers)", "A1": "local server, --workers 1", "B": "embedded SQLite"}
SECTION = {"A": "a", "A1": "b", "B": "c"}


class Stores:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.cwd = work / "cwd"  # children run here: MLflow's default ./mlruns lands here, never in the repository
        self.server = Server(work / "srv")  # (A): MLflow's defaults
        self.server1 = Server(work / "srv1", workers=1)  # (A1)
        self.emb_db = work / "emb" / "emb.db"  # (B)
        #: per store: its "uri", its "source" run (once generated) and the "exports" kept as import inputs
        self.records: dict[str, dict[str, Any]] = {}

    def srv(self, store: str) -> Server | None:
        return {"A": self.server, "A1": self.server1}.get(store)

    def uri(self, store: str) -> str:
        srv = self.srv(store)
        return srv.uri if srv else f"sqlite:///{self.emb_db}"

    def db(self, store: str) -> Path:
        srv = self.srv(store)
        return srv.db if srv else self.emb_db

    def prepare(self) -> None:
        """A fresh work directory (rebuilt on every benchmark run)."""
        if self.work.exists():
            shutil.rmtree(self.work)
        self.cwd.mkdir(parents=True)
        self.emb_db.parent.mkdir(parents=True)

    def record_uris(self) -> None:
        """Start the records (once the servers are up: their URIs hold their ports)."""
        self.records = {st: {"uri": self.uri(st)} for st in STORES}

    def source(self, store: str) -> dict[str, Any]:
        """The source run made in ``store`` (with its ``check``)."""
        return self.records[store]["source"]

    def exports(self, store: str) -> dict[str, Path]:
        """The export directory kept per tool ("ours", "peer") for ``store`` (empty until one is kept)."""
        return self.records[store].get("exports", {})

    def keep_or_drop(self, store: str, who: str, d: Path) -> None:
        """Keep the first good export of each tool (the import input); delete the others (disk)."""
        keep: dict[str, Path] = self.records[store].setdefault("exports", {})
        if who not in keep:
            keep[who] = d
        elif keep[who] != d:
            shutil.rmtree(d, ignore_errors=True)

    def any_peer_export(self, store: str) -> Path | None:
        """The peer's export from ``store``, else from the first store that has one."""
        return self.exports(store).get("peer") or next((self.exports(o)["peer"] for o in STORES if self.exports(o).get("peer")), None)

    def fresh(self, what: str) -> str:
        """A new experiment name."""
        return f"bench-{what}-{uuid.uuid4().hex[:8]}"

    def out_dir(self, *parts: str) -> Path:
        """An empty place for an export under ``work/out`` (its parent exists, it does not)."""
        d = self.work.joinpath("out", *parts)
        if d.exists():
            shutil.rmtree(d)
        d.parent.mkdir(parents=True, exist_ok=True)
        return d

    def stop_servers(self) -> None:
        self.server.stop()
        self.server1.stop()

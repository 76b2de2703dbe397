"""``manifest import``: manifests recreated as runs in an MLflow store."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any

import click

from .app import MaskedStream, jobs_option, to_stderr, tracking_uri_option


@dataclass(frozen=True)
class ImportArgs:
    """Every option of ``manifest import``."""

    paths: tuple[str, ...]
    tracking_uri: str | None
    experiment: str | None
    allow_duplicate: bool
    skip_existing: bool
    register_model: str | None
    jobs: int

    def check(self) -> None:
        if self.allow_duplicate and self.skip_existing:
            raise click.UsageError("--allow-duplicate and --skip-existing are opposites; give one")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@tracking_uri_option()
@click.option("--experiment", metavar="NAME", help="Experiment to import into [default: the manifest's own]; created if missing.")
@click.option("--allow-duplicate", is_flag=True, help="Import a run even if the store already holds it (imported before, in any experiment).")
@click.option("--skip-existing", is_flag=True, help="Skip the runs the store already holds, import the others (resumes an interrupted import).")
@click.option("--register-model", metavar="NAME", help="Register each recreated model under this registered-model name.")
@jobs_option()
def command(**kwargs: Any) -> None:
    """Recreate runs from manifests (files or directories) in an MLflow tracking store.

    Every manifest and every file next to it is checked before the store is touched, and every
    run is looked up in the store by its identity (source system and run id): a run the store
    already holds is refused, each named by its file, or skipped with --skip-existing. A parent and
    its children keep their structure. Each new run id is printed on standard output as soon as
    the run exists (one line per run); everything else goes to standard error. Exit status: 0 imported, 1 invalid
    manifest or a value the store would refuse or truncate, 2 usage error or unreadable input, 3 tracking store unreachable or credentials
    refused, 4 experiment deleted, 5 already imported (see --allow-duplicate), 6 a file next to the
    manifest is missing or differs from its digest.
    """
    args = ImportArgs(**kwargs)  # "-" is refused by prepare_paths, before the store is touched
    args.check()
    from ..tracking.importing.batch import check_targets, import_paths  # lazy: the tracking layer imports MLflow (~1.5 s)
    from ..tracking.importing.options import ImportOptions  # lazy: as above
    from ..tracking.importing.prepare import prepare_paths  # lazy: as above
    from ..tracking.store import client, resolve_tracking_uri  # lazy: as above

    uri = resolve_tracking_uri(args.tracking_uri)
    out = sys.stdout

    def announce(_file: str, run_id: str) -> None:  # each new run id as soon as the run exists
        out.write(run_id + "\n")
        out.flush()

    opts = ImportOptions(experiment=args.experiment, allow_duplicate=args.allow_duplicate, skip_existing=args.skip_existing, register_model=args.register_model, workers=args.jobs, log=to_stderr, imported=announce)
    with contextlib.redirect_stdout(MaskedStream(sys.stderr)):  # MLflow prints "View run ..." lines; keep stdout for run ids
        prepared = prepare_paths(list(args.paths))  # every manifest and file checked before connecting
        check_targets(prepared, opts)  # and everything the store would refuse or truncate
        cl = client(uri, check=not uri.startswith("sqlite:"))
        import_paths(cl, prepared, tracking_uri=uri, options=opts)

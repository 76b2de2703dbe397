"""``manifest import``: manifests recreated as runs in an MLflow store."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from ..core.text import one_line
from .app import MaskedStream, jobs_option, messages, quiet_option, report_option, tracking_uri_option


@dataclass(frozen=True)
class ImportArgs:
    """Every option of ``manifest import``."""

    paths: tuple[str, ...]
    tracking_uri: str | None
    experiment: str | None
    allow_duplicate: bool
    skip_existing: bool
    register_model: str | None
    quiet: bool
    report: str
    registry_merge: bool
    no_registry: bool
    keep_going: bool
    jobs: int

    def check(self) -> None:
        if self.allow_duplicate and self.skip_existing:
            raise click.UsageError("--allow-duplicate and --skip-existing are opposites; give one")
        if self.registry_merge and self.no_registry:
            raise click.UsageError("--registry-merge and --no-registry are opposites; give one")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(allow_dash=True))
@tracking_uri_option()
@click.option("--experiment", metavar="NAME", help="Experiment to import into [default: the manifest's own]; created if missing.")
@click.option("--allow-duplicate", is_flag=True, help="Import a run even if the store already holds it (imported before, in any experiment).")
@click.option("--skip-existing", is_flag=True, help="Skip the runs the store already holds, import the others (resumes an interrupted import).")
@click.option("--register-model", metavar="NAME", help="Also register each recreated model under this registered-model name (appended).")
@click.option("--registry-merge", is_flag=True, help="Add versions to a registered model that already has some: appended in source order, aliases moved to them.")
@click.option("--no-registry", is_flag=True, help="Import the runs and their models, but recreate no registered model.")
@click.option("--keep-going", is_flag=True, help="When a run fails, import the others and name every failure at the end (the exit status is the first failure's) [default for a whole-store export directory].")
@quiet_option()
@report_option()
@jobs_option()
def command(**kwargs: Any) -> None:
    """Recreate runs from manifests (files or directories) in an MLflow tracking store.

    Every manifest and every file next to it is checked before the store is touched, and every
    run is looked up in the store by its identity (source system and run id): a run the store
    already holds is refused, each named by its file, or skipped with --skip-existing. A parent and
    its children keep their structure. Registered models recorded in the manifests (or in the
    directory's export-index.json) are recreated with the same version numbers, aliases, tags and
    descriptions; one that already has versions in the store is refused unless --registry-merge. Each new run id is printed on standard output as soon as
    the run exists (one line per run; --report json prints one JSON document at the end instead:
    imported and skipped runs with their source run ids and files, and registered-model versions,
    source -> new); everything else goes to standard error, with a progress bar on a terminal. Exit status: 0 imported, 1 invalid
    manifest or a value the store would refuse or truncate, 2 usage error or unreadable input, 3 tracking store unreachable or credentials
    refused, 4 experiment deleted, 5 already imported (see --allow-duplicate) or a registered model
    that has versions (see --registry-merge), 6 a file next to the manifest, or a manifest listed in
    export-index.json, is missing or differs from its digest.
    """
    args = ImportArgs(**kwargs)  # "-" is refused by prepare_paths, before the store is touched
    args.check()
    from ..tracking.importing.batch import check_targets, import_paths, indexes_for  # lazy: the tracking layer imports MLflow (~1.5 s)
    from ..tracking.importing.experiments import is_whole_store  # lazy: as below
    from ..tracking.importing.options import ImportOptions  # lazy: as above
    from ..tracking.importing.prepare import prepare_paths  # lazy: as above
    from ..tracking.store import client, resolve_tracking_uri  # lazy: as above

    uri = resolve_tracking_uri(args.tracking_uri)
    out = sys.stdout
    report = ImportReport()
    bar, say = messages(args.quiet)

    def announce(file: str, run_id: str) -> None:  # each new run id as soon as the run exists
        report.imported.append({"file": file, "run_id": run_id, **_source(sources, prepared, file)})
        if args.report == "text":
            bar.above(lambda: (out.write(run_id + "\n"), out.flush()))

    opts = ImportOptions(
        experiment=args.experiment, allow_duplicate=args.allow_duplicate, skip_existing=args.skip_existing, register_model=args.register_model,
        registry=not args.no_registry, registry_merge=args.registry_merge, workers=args.jobs, log=say, imported=announce,
        skipped=lambda f, r: report.skipped.append({"file": f, "run_id": r, **_source(sources, prepared, f)}),
        registered=lambda m, v, n: report.registered.setdefault(m, {}).__setitem__(str(v), n), progress=bar,
        keep_going=args.keep_going, experiment_created=report.experiments_created.append,
    )
    prepared: list[Any] = []
    sources: dict[str, dict[str, Any]] = {}  # file -> its source run, filled once (thousands of runs)
    with contextlib.redirect_stdout(MaskedStream(sys.stderr)):  # MLflow prints "View run ..." lines; keep stdout for run ids
        prepared = prepare_paths(list(args.paths))  # every manifest and file checked before connecting
        indexes = indexes_for(list(args.paths))  # and the export indexes against the manifests they list
        whole = [str(path) for path, index in indexes if is_whole_store(index)]
        if whole and args.experiment:
            raise click.UsageError(f"{whole[0]} is a whole-store export: its runs go to their own experiments, so --experiment does not apply")
        opts.keep_going = opts.keep_going or bool(whole)
        check_targets(prepared, opts)  # and everything the store would refuse or truncate
        cl = client(uri, check=not uri.startswith("sqlite:"))
        try:
            import_paths(cl, prepared, tracking_uri=uri, options=opts, indexes=indexes)
        finally:
            if len(prepared) > 1 or whole:
                for line in report.closing(len(prepared), [index for _, index in indexes]):
                    say(line)
    if args.report == "json":
        out.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")


@dataclass
class ImportReport:
    """``--report json``: for each manifest, its source run and the run it became (or already was)."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: registered model -> source version -> new version
    registered: dict[str, dict[str, str]] = field(default_factory=dict)
    experiments_created: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "skipped": self.skipped, "experiments_created": self.experiments_created, "registered_models": [{"name": n, "versions": v} for n, v in sorted(self.registered.items())]}

    def closing(self, manifests: int, indexes: list[dict[str, Any]]) -> list[str]:
        """The closing report of a many-run import: counts per kind, and what the export had
        already left out (the failures of this import were each named as they happened)."""
        failed = manifests - len(self.imported) - len(self.skipped)
        versions = sum(len(v) for v in self.registered.values())
        lines = [
            f"runs: {len(self.imported)} imported, {len(self.skipped)} already there (skipped), {failed} not imported, of {manifests}",
            f"experiments: {len(self.experiments_created)} created",
            f"registered models: {len(self.registered)} with {versions} versions made",
        ]
        left = [x for index in indexes for x in index.get("not_exported") or []]
        left += [{"kind": "model_version", "id": f"{m['name']}/{v['version']}", "reason": v["missing"]} for index in indexes for m in index.get("registered_models") or [] for v in m["versions"] if "missing" in v]
        if left:
            lines.append(f"not in the export, so not migrated ({len(left)}):")
            lines += [f"  {x['kind'].replace('_', ' ')} {one_line(x['id'])}: {one_line(x['reason'])}" for x in left]
        return lines


def _source(sources: dict[str, dict[str, Any]], prepared: list[Any], file: str) -> dict[str, Any]:
    """The source run id and experiment of the manifest ``file`` names, from a table made on
    first use (so a report over many runs is not quadratic)."""
    if not sources:
        for p in prepared:
            src = p.data["provenance"].get("source") or {}
            found = {"source_run_id": src.get("run_id"), "source_experiment": src.get("experiment_name")}
            sources[p.doc.name] = {k: v for k, v in found.items() if v is not None}
    return sources.get(file, {})

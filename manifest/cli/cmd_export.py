"""``manifest export``: MLflow runs as manifests, or as a paper bundle."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..bundle.writing import finish, prepare_dir, write_bundle
from ..core.uris import strip_credentials
from ..document.reader import load_path
from .app import MaskedStream, jobs_option, progress_printer, to_stderr, tracking_uri_option


@dataclass(frozen=True)
class ExportArgs:
    """Every option of ``manifest export``, checked together before anything is read."""

    run_ids: tuple[str, ...]
    experiment: str | None
    filter_string: str | None
    tracking_uri: str | None
    output: str
    fmt: str | None
    history: str
    inline_max_points: int
    allow_running: bool
    with_models: bool
    with_artifacts: bool
    bundle_dir: str | None
    metric_names: str | None
    force: bool
    jobs: int

    def check(self) -> None:
        """Refuse combinations that cannot work, as usage errors (exit 2)."""
        if bool(self.run_ids) == bool(self.experiment):
            raise click.UsageError("give RUN_ID... or --experiment NAME (one of the two)")
        if self.filter_string and not self.experiment:
            raise click.UsageError("--filter goes with --experiment")
        if self.bundle_dir and self.output != "-":
            raise click.UsageError("--bundle DIR and -o are alternatives")
        if self.output != "-" and not self.bundle_dir:
            _check_parent(self.output)

    @property
    def metrics(self) -> list[str] | None:
        return [m.strip() for m in self.metric_names.split(",") if m.strip()] if self.metric_names else None

    def options(self) -> Any:
        from ..tracking.exporting.options import ExportOptions  # lazy: the tracking layer imports MLflow (~1.5 s)

        return ExportOptions(
            history=self.history, inline_max_points=self.inline_max_points, allow_running=self.allow_running,  # type: ignore[arg-type]
            with_models=self.with_models, with_artifacts=self.with_artifacts, workers=self.jobs, progress=progress_printer(),
        )


def _check_parent(output: str) -> None:
    """``-o`` must name a place that can exist: its parent directory must be there."""
    parent = Path(output).parent
    if not parent.exists():
        raise click.UsageError(f"-o {output}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise click.UsageError(f"-o {output}: {parent} is not a directory")


@click.command("export")
@click.argument("run_ids", nargs=-1, metavar="[RUN_ID]...")
@click.option("--experiment", help="Export every active run of this experiment (name or id).")
@click.option("--filter", "filter_string", metavar="EXPR", help="MLflow search filter for --experiment, e.g. \"params.n_estimators = '100'\".")
@tracking_uri_option()
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help="File, directory, or - for standard output (one run only).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None, help="Output format [default: from the file extension, else yaml].")
@click.option("--history", type=click.Choice(["auto", "inline", "sidecar"]), default="auto", show_default=True, help="Where metric histories go: sidecar files above --inline-max-points, always inline, or always sidecar.")
@click.option("--inline-max-points", type=click.IntRange(min=0), default=10_000, show_default=True, help="Longest history kept inline with --history auto.")
@click.option("--allow-running", is_flag=True, help="Export a run that has not ended (its status stays RUNNING in the manifest).")
@click.option("--with-models", is_flag=True, help="Copy the models' files next to the manifest, so an import can recreate them.")
@click.option("--with-artifacts", is_flag=True, help="Copy the run's artifacts next to the manifest.")
@click.option("--bundle", "bundle_dir", metavar="DIR", help="Write a paper bundle: manifests, index, results tables, plots, README, SHA256SUMS.")
@click.option("--metrics", "metric_names", metavar="NAMES", help="Comma-separated metrics for the bundle's table and plots [default: all].")
@click.option("--force", is_flag=True, help="Replace manifest files that exist, or a bundle directory that is not empty.")
@jobs_option()
def command(**kwargs: Any) -> None:
    """Export MLflow runs as manifests.

    One run goes to standard output by default; several runs (or --experiment) need -o DIRECTORY,
    which gets one manifest per run named RUNNAME-RUNID8.yaml; an --experiment (and --filter) that
    matches one run may also go to a file or standard output. A manifest file that exists is not
    replaced without --force. Exit status: 0 exported, 2 usage error (several runs into one file),
    3 tracking store unreachable or credentials refused, 4 run or experiment not found or deleted
    (or an experiment without runs), 5 run still RUNNING (see --allow-running), a manifest file
    that exists or a bundle directory not empty (see --force).

    With --bundle DIR, the runs become a directory for a paper's supplementary material.
    """
    args = ExportArgs(**kwargs)
    args.check()
    from ..tracking.store import resolve_tracking_uri  # lazy: the tracking layer imports MLflow (~1.5 s)

    uri = resolve_tracking_uri(args.tracking_uri)
    real_stdout = sys.stdout
    sys.stdout = MaskedStream(sys.stderr)  # type: ignore[assignment]  # MLflow may print; only the manifest goes to standard output
    try:
        if args.bundle_dir:
            _bundle(args, uri)
        else:
            _export(args, uri, real_stdout)
    finally:
        sys.stdout = real_stdout


def _run_ids(args: ExportArgs, cl: Any, uri: str) -> list[str]:
    from ..tracking.exporting.experiment import find_runs  # lazy: MLflow

    return list(args.run_ids) if args.run_ids else [r.info.run_id for r in find_runs(cl, args.experiment or "", args.filter_string, uri)]


def _export(args: ExportArgs, uri: str, stdout: Any) -> None:
    from ..tracking.exporting.files import export_to_files  # lazy: MLflow
    from ..tracking.store import client  # lazy: MLflow

    cl = client(uri)
    ids = _run_ids(args, cl, uri)
    many = len(ids) > 1 or (bool(args.experiment) and not _one_file(args.output))  # a filter that matches one run may go to a file
    export_to_files(cl, ids, tracking_uri=uri, output=args.output, fmt=args.fmt, options=args.options(), many=many, log=to_stderr, stdout=stdout, force=args.force)


def _one_file(output: str) -> bool:
    """Whether ``-o`` names one manifest (standard output, or a ``.yaml``/``.json`` file)."""
    from ..tracking.exporting.files import MANIFEST_SUFFIXES  # lazy: the tracking layer imports MLflow (~1.5 s)

    return output == "-" or (output.lower().endswith(MANIFEST_SUFFIXES) and not Path(output).is_dir())


def _bundle(args: ExportArgs, uri: str) -> None:
    from ..tracking.exporting.files import export_to_files  # lazy: MLflow
    from ..tracking.store import client  # lazy: MLflow

    cl = client(uri)
    ids = _run_ids(args, cl, uri)
    target = Path(args.bundle_dir or "")
    tmp = prepare_dir(target, args.force)
    try:
        written = export_to_files(cl, ids, tracking_uri=uri, output=str(tmp / "manifests"), fmt=args.fmt, options=args.options(), many=True, log=to_stderr)
        manifests = [(Path(w), load_path(w).data) for w in written]
        source = {"experiment": args.experiment, "filter": args.filter_string, "tracking_uri": strip_credentials(uri), "citations": [m["citation"] for _, m in manifests if m.get("citation")]}
        write_bundle(tmp, manifests, metrics=args.metrics, source={k: v for k, v in source.items() if v}, log=to_stderr)
        finish(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    click.echo(f"bundle written to {target}/ ({len(written)} manifests); check it with: manifest validate {target}", err=True)

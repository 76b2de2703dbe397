"""The ``manifest`` command line: a thin layer over the Python API.

Exit codes: 0 success; 1 a document is not a valid manifest; 2 usage error or unreadable input;
70 internal error (a bug: please report it). ``manifest validate`` never imports MLflow.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from .__about__ import __version__
from .errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, ManifestError
from .report import problem_line
from .schema import KNOWN_VERSIONS

EXIT_INTERNAL = 70


class _Group(click.Group):
    """Turns any unexpected exception into one line and exit code 70, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except ManifestError as exc:
            for problem in exc.problems:
                click.echo(f"manifest: {problem_line(problem) if problem.file else problem.message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("manifest: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(EXIT_OK)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            click.echo(f"manifest: internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
            sys.exit(EXIT_INTERNAL)


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().rstrip("ib").rstrip("b")
    mult = units.get(t[-1:], 1)
    num = t[:-1] if t[-1:] in units else t
    try:
        return int(float(num) * mult)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 64M or 1G") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="manifest", message="%(prog)s %(version)s (spec versions: " + ", ".join(KNOWN_VERSIONS) + ")")
def main() -> None:
    """Check, export and import experiment manifests: reproducible descriptions of ML runs."""


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output for people or for machines.")
@click.option("--max-file-size", default="64M", show_default=True, metavar="SIZE", help="Refuse files larger than this (e.g. 64M, 1G).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, help="Processes for many files; 0 uses every core.")
@click.option("--engine", type=click.Choice(["rs", "python"]), default="rs", show_default=True, help="JSON Schema engine: jsonschema-rs, or the reference Python jsonschema.")
@click.option("--verbose", "-v", is_flag=True, help="Also list the files that are valid.")
def validate(paths: tuple[str, ...], fmt: str, max_file_size: str, jobs: int, engine: str, verbose: bool) -> None:
    """Check manifests: files, directories (recursively) or - for standard input.

    One line per problem, FILE:LINE:COL: /json/pointer: message, then a summary. Exit status 0 when
    every manifest is valid, 1 when any is invalid, 2 for usage errors or unreadable input.
    """
    from .report import render_json, render_text
    from .validate import validate_paths

    outcome = validate_paths(list(paths), max_bytes=_size(max_file_size), engine=engine, jobs=jobs)  # type: ignore[arg-type]
    click.echo(render_json(outcome) if fmt == "json" else render_text(outcome, verbose=verbose), nl=False)
    if outcome.unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if outcome.valid else EXIT_INVALID)


@main.command()
@click.option("--version", "version", default=None, metavar="X.Y", help="Spec version (default: the latest).")
def schema(version: str | None) -> None:
    """Print the JSON Schema of a spec version."""
    from .schema import LATEST_VERSION, schema_text

    v = version or LATEST_VERSION
    if v not in KNOWN_VERSIONS:
        click.echo(f"manifest: unknown spec version {v!r}; this tool knows {', '.join(KNOWN_VERSIONS)}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(schema_text(v), nl=False)


@main.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--only-differences", is_flag=True, help="Show only the rows that differ.")
def diff_cmd(a: str, b: str, fmt: str, only_differences: bool) -> None:
    """Compare two manifests side by side: run, params, metrics, data, code, environment, models.

    Identity and provenance are shown but do not count. Exit status: 0 no difference, 1
    differences (or an invalid manifest), 2 usage error or unreadable file.
    """
    from .compare import compare, differences, render_json, render_text
    from .validate import load_valid

    rows = compare(load_valid(a).data, load_valid(b).data)
    click.echo(render_json(rows) if fmt == "json" else render_text(rows, (a, b), only_differences=only_differences), nl=False)
    sys.exit(EXIT_INVALID if differences(rows) else EXIT_OK)


@main.command("export")
@click.argument("run_ids", nargs=-1, metavar="[RUN_ID]...")
@click.option("--experiment", help="Export every active run of this experiment (name or id).")
@click.option("--filter", "filter_string", metavar="EXPR", help="MLflow search filter for --experiment, e.g. \"params.n_estimators = '100'\".")
@click.option("--tracking-uri", metavar="URI", help="Tracking server or store [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help="File, directory, or - for standard output (one run only).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None, help="Output format [default: from the file extension, else yaml].")
@click.option("--history", type=click.Choice(["auto", "inline", "sidecar"]), default="auto", show_default=True, help="Where metric histories go: sidecar files above --inline-max-points, always inline, or always sidecar.")
@click.option("--inline-max-points", type=click.IntRange(min=0), default=10_000, show_default=True, help="Longest history kept inline with --history auto.")
@click.option("--allow-running", is_flag=True, help="Export a run that has not ended (its status stays RUNNING in the manifest).")
@click.option("--with-models", is_flag=True, help="Copy the models' files next to the manifest, so an import can recreate them.")
@click.option("--with-artifacts", is_flag=True, help="Copy the run's artifacts next to the manifest.")
@click.option("--bundle", "bundle_dir", metavar="DIR", help="Write a paper bundle: manifests, index, results tables, plots, README, SHA256SUMS.")
@click.option("--metrics", "metric_names", metavar="NAMES", help="Comma-separated metrics for the bundle's table and plots [default: all].")
@click.option("--force", is_flag=True, help="Replace a bundle directory that exists and is not empty.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, show_default=True, help="Requests in flight at once against a tracking server, each on its own connection.")
def export_cmd(run_ids: tuple[str, ...], experiment: str | None, filter_string: str | None, tracking_uri: str | None, output: str, fmt: str | None, history: str, inline_max_points: int, allow_running: bool, with_models: bool, with_artifacts: bool, bundle_dir: str | None, metric_names: str | None, force: bool, jobs: int) -> None:
    """Export MLflow runs as manifests.

    One run goes to standard output by default; several runs (or --experiment) need -o DIRECTORY,
    which gets one manifest per run named RUNNAME-RUNID8.yaml. Exit status: 0 exported, 2 usage
    error, 3 tracking store unreachable or credentials refused, 4 run or experiment not found or
    deleted (or an experiment without runs), 5 run still RUNNING (see --allow-running) or
    bundle directory not empty (see --force).

    With --bundle DIR, the runs become a directory for a paper's supplementary material.
    """
    from .tracking import resolve_tracking_uri

    if bool(run_ids) == bool(experiment):
        raise click.UsageError("give RUN_ID... or --experiment NAME (one of the two)")
    if filter_string and not experiment:
        raise click.UsageError("--filter goes with --experiment")
    uri = resolve_tracking_uri(tracking_uri)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # MLflow may print; only the manifest goes to standard output
    try:
        if bundle_dir:
            if output != "-":
                raise click.UsageError("--bundle DIR and -o are alternatives")
            _bundle(run_ids, experiment, filter_string, uri, bundle_dir, fmt, history, inline_max_points, with_models, with_artifacts, metric_names, force, jobs)
        else:
            _export(run_ids, experiment, filter_string, uri, output, fmt, history, inline_max_points, allow_running, with_models, with_artifacts, real_stdout, jobs)
    finally:
        sys.stdout = real_stdout


def _bundle(run_ids: tuple[str, ...], experiment: str | None, filter_string: str | None, uri: str, out: str, fmt: str | None, history: str, inline_max_points: int, with_models: bool, with_artifacts: bool, metric_names: str | None, force: bool, jobs: int) -> None:
    import shutil
    from pathlib import Path

    from . import bundle as bd
    from . import mlflow_export as mx
    from .parse import load_path
    from .tracking import client as make_client
    from .tracking import strip_credentials

    cl = make_client(uri)
    ids = list(run_ids) if run_ids else [r.info.run_id for r in mx.find_runs(cl, experiment or "", filter_string, uri)]
    target = Path(out)
    tmp = bd.prepare_dir(target, force)
    try:
        opts = mx.ExportOptions(history=history, inline_max_points=inline_max_points, with_models=with_models, with_artifacts=with_artifacts, workers=jobs, progress=mx.progress_printer())  # type: ignore[arg-type]
        log = lambda s: click.echo(s, err=True)  # noqa: E731
        written = mx.export_to_files(cl, ids, tracking_uri=uri, output=str(tmp / "manifests"), fmt=fmt, options=opts, many=True, log=log)
        manifests = [(Path(w), load_path(w).data) for w in written]
        source = {"experiment": experiment, "filter": filter_string, "tracking_uri": strip_credentials(uri), "citations": [m["citation"] for _, m in manifests if m.get("citation")]}
        metrics = [m.strip() for m in metric_names.split(",") if m.strip()] if metric_names else None
        bd.write_bundle(tmp, manifests, metrics=metrics, source={k: v for k, v in source.items() if v}, log=log)
        bd.finish(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    click.echo(f"bundle written to {target}/ ({len(written)} manifests); check it with: manifest validate {target}", err=True)


def _export(run_ids: tuple[str, ...], experiment: str | None, filter_string: str | None, uri: str, output: str, fmt: str | None, history: str, inline_max_points: int, allow_running: bool, with_models: bool, with_artifacts: bool, stdout: Any, jobs: int) -> None:
    from . import mlflow_export as mx
    from .tracking import client as make_client

    cl = make_client(uri)
    ids = list(run_ids) if run_ids else [r.info.run_id for r in mx.find_runs(cl, experiment or "", filter_string, uri)]
    opts = mx.ExportOptions(history=history, inline_max_points=inline_max_points, allow_running=allow_running, with_models=with_models, with_artifacts=with_artifacts, workers=jobs, progress=mx.progress_printer())  # type: ignore[arg-type]
    mx.export_to_files(cl, ids, tracking_uri=uri, output=output, fmt=fmt, options=opts, many=bool(experiment) or len(ids) > 1, log=lambda s: click.echo(s, err=True), stdout=stdout)


@main.command("reproduce")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--workdir", type=click.Path(file_okay=False), help="Where to check out the code [default: a temporary directory].")
@click.option("--repo", type=click.Path(file_okay=False), help="Local repository holding the commit [default: the one around the current directory, else the recorded URL].")
@click.option("--tracking-uri", metavar="URI", help="Where the new run is logged [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].")
@click.option("--timeout", type=float, default=None, help="Seconds the command may take.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def reproduce_cmd(path: str, workdir: str | None, repo: str | None, tracking_uri: str | None, timeout: float | None, fmt: str) -> None:
    """Re-run a manifest's run from its recorded code and params, and compare every metric.

    The report (metric, original, reproduced, difference, tolerance, verdict) goes to standard
    output; the command's own output to standard error. Exit status: 0 every metric within
    tolerance, 1 a metric differs or is missing (or the manifest is invalid), 2 usage error, 3
    tracking store unreachable, 7 the run could not be re-executed (no git, unknown commit, missing
    diff, command failed).
    """
    import json
    from pathlib import Path

    from .reproduce import reproduce, render_text

    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        result = reproduce(path, workdir=Path(workdir) if workdir else None, tracking_uri=tracking_uri, repo=Path(repo) if repo else None, timeout=timeout, log=lambda s: click.echo(s, err=True))
    out.write(json.dumps(result.to_dict(), indent=2) + "\n" if fmt == "json" else render_text(result))
    out.flush()
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--tracking-uri", metavar="URI", help="Tracking server or store [default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db].")
@click.option("--experiment", metavar="NAME", help="Experiment to import into [default: the manifest's own]; created if missing.")
@click.option("--allow-duplicate", is_flag=True, help="Import even if this manifest was imported into the experiment before.")
@click.option("--register-model", metavar="NAME", help="Register each recreated model under this registered-model name.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, show_default=True, help="Requests in flight at once against a tracking server, each on its own connection.")
def import_cmd(paths: tuple[str, ...], tracking_uri: str | None, experiment: str | None, allow_duplicate: bool, register_model: str | None, jobs: int) -> None:
    """Recreate runs from manifests (files or directories) in an MLflow tracking store.

    Every manifest and every file next to it is checked before the store is touched. A parent and
    its children keep their structure. The new run id is the last line of standard output (one
    line per run); everything else goes to standard error. Exit status: 0 imported, 1 invalid
    manifest, 2 usage error or unreadable input, 3 tracking store unreachable or credentials
    refused, 4 experiment deleted, 5 already imported (see --allow-duplicate), 6 a file next to the
    manifest is missing or differs from its digest.
    """
    from .mlflow_import import ImportOptions, import_paths
    from .tracking import client as make_client
    from .tracking import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    opts = ImportOptions(experiment=experiment, allow_duplicate=allow_duplicate, register_model=register_model, workers=jobs, log=lambda s: click.echo(s, err=True))
    from .mlflow_import import prepare_paths

    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # MLflow prints "View run ..." lines; keep stdout for run ids
        prepared = prepare_paths(list(paths))  # every manifest and file checked before connecting
        cl = make_client(uri, check=not uri.startswith("sqlite:"))
        imported = import_paths(cl, prepared, tracking_uri=uri, options=opts)
    for _, run_id in imported:
        out.write(run_id + "\n")
    out.flush()


from . import cli_verify  # noqa: E402,F401  (registers verify and env)

if __name__ == "__main__":  # pragma: no cover
    main()

"""``manifest export``: MLflow runs as manifests, or as a paper bundle."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..bundle.archive import write_zip
from ..bundle.contents import MAX_DATA_BYTES
from ..bundle.writing import BundleOptions, finish, prepare_dir, write_bundle
from ..core.problems import NotFound, Problem, Refused
from ..core.uris import strip_credentials
from ..document.reader import load_path
from .app import MaskedStream, SizeType, jobs_option, messages, quiet_option, report_option, tracking_uri_option
from .keys_options import key_inside, passphrase_options, read_passphrase


@dataclass(frozen=True)
class ExportArgs:
    """Every option of ``manifest export``, checked together before anything is read."""

    run_ids: tuple[str, ...]
    experiment: str | None
    model: str | None
    whole_store: bool
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
    with_data: bool
    max_data_size: int
    with_code: bool
    repo: str | None
    data_root: str | None
    anonymize: bool
    anonymize_terms: tuple[str, ...]
    archive: bool
    sign_key: str | None
    passphrase_file: str | None
    passphrase_env: str | None
    ask_passphrase: bool
    force: bool
    quiet: bool
    report: str
    jobs: int

    def check(self) -> None:
        """Refuse combinations that cannot work, as usage errors (exit 2)."""
        if sum(map(bool, (self.run_ids, self.experiment, self.model, self.whole_store))) != 1:
            raise click.UsageError("give RUN_ID..., --experiment NAME, --model NAME[@ALIAS|/VERSION] or --all (one of them)")
        if self.whole_store and (self.bundle_dir or self.output == "-" or self.output.lower().endswith((".yaml", ".yml", ".json"))):
            raise click.UsageError("--all needs -o DIRECTORY (and is not a --bundle)")
        if self.filter_string and not self.experiment:
            raise click.UsageError("--filter goes with --experiment")
        if self.bundle_dir and self.output != "-":
            raise click.UsageError("--bundle DIR and -o are alternatives")
        if self.output != "-" and not self.bundle_dir:
            _check_parent(self.output)
        bundle_only = {"--with-data": self.with_data, "--with-code": self.with_code, "--anonymize": self.anonymize, "--anonymize-term": self.anonymize_terms, "--archive": self.archive, "--sign-key": self.sign_key, "--metrics": self.metric_names}
        used = [k for k, v in bundle_only.items() if v]
        if used and not self.bundle_dir:
            raise click.UsageError(f"{', '.join(used)} go(es) with --bundle DIR")
        if self.anonymize_terms and not self.anonymize:
            raise click.UsageError("--anonymize-term goes with --anonymize")
        if (self.passphrase_file or self.passphrase_env or self.ask_passphrase) and not self.sign_key:
            raise click.UsageError("the passphrase options go with --sign-key")
        if self.sign_key and self.bundle_dir and key_inside(self.sign_key, self.bundle_dir):
            raise click.UsageError(f"--sign-key {self.sign_key} lies inside the bundle directory: the private key would be shipped with it")
        if self.report == "json" and self.output == "-" and not self.bundle_dir:
            raise click.UsageError("--report json needs -o FILE or DIRECTORY (standard output would hold the manifest)")

    @property
    def metrics(self) -> list[str] | None:
        return [m.strip() for m in self.metric_names.split(",") if m.strip()] if self.metric_names else None

    def bundle_options(self, log: Any) -> BundleOptions:
        """The bundle's options; a signing key is loaded here, before anything is exported, so a
        wrong passphrase fails at once."""
        key = None
        if self.sign_key:
            from ..signing.keys import load_signing_key  # lazy: cryptography, only for --sign-key

            key = load_signing_key(Path(self.sign_key), read_passphrase(self.passphrase_file, self.passphrase_env, self.ask_passphrase), log=log)
        return BundleOptions(
            metrics=self.metrics, with_data=self.with_data, max_data_bytes=self.max_data_size, with_code=self.with_code,
            repo=Path(self.repo) if self.repo else None, data_root=Path(self.data_root) if self.data_root else None,
            anonymize=self.anonymize, anonymize_terms=self.anonymize_terms, sign_key=key,
        )

    def options(self, progress: Any) -> Any:
        from ..tracking.exporting.options import ExportOptions  # lazy: the tracking layer imports MLflow (~1.5 s)

        return ExportOptions(
            history=self.history, inline_max_points=self.inline_max_points, allow_running=self.allow_running,  # type: ignore[arg-type]
            with_models=self.with_models or bool(self.model) or self.whole_store, with_artifacts=self.with_artifacts or self.whole_store, workers=self.jobs, progress=progress,
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
@click.option("--all", "whole_store", is_flag=True, help="Export the whole store into -o DIRECTORY: every experiment (deleted ones too), every run with its models' and artifacts' files, every registered model with all its versions; what cannot be exported is listed in the index and the closing report.")
@click.option("--model", metavar="NAME[@ALIAS|/VERSION]", help="Export the runs behind a registered model's versions (all, the one an alias names, or one), with their models' files and the registry state.")
@click.option("--filter", "filter_string", metavar="EXPR", help="MLflow search filter for --experiment, e.g. \"params.n_estimators = '100'\".")
@tracking_uri_option()
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", type=click.Path(allow_dash=True), help="File, directory, or - for standard output (one run only).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None, help="Output format [default: from the file extension, else yaml].")
@click.option("--history", type=click.Choice(["auto", "inline", "sidecar"]), default="auto", show_default=True, help="Where metric histories go: sidecar files above --inline-max-points, always inline, or always sidecar.")
@click.option("--inline-max-points", type=click.IntRange(min=0), default=10_000, show_default=True, help="Longest history kept inline with --history auto.")
@click.option("--allow-running", is_flag=True, help="Export a run that has not ended (its status stays RUNNING in the manifest).")
@click.option("--with-models", is_flag=True, help="Copy the models' files next to the manifest, so an import can recreate them.")
@click.option("--with-artifacts", is_flag=True, help="Copy the run's artifacts next to the manifest.")
@click.option("--bundle", "bundle_dir", metavar="DIR", help="Write a paper bundle: manifests, index, results tables, plots, README, SHA256SUMS.")
@click.option("--metrics", "metric_names", metavar="NAMES", help="Comma-separated metrics for the bundle's table and plots [default: all].")
@click.option("--with-data", is_flag=True, help="Bundle: copy the data inputs that are local files or directories into data/, each checked against its recorded digest.")
@click.option("--max-data-size", type=SizeType(), default=MAX_DATA_BYTES, show_default="1G", metavar="SIZE", help="Bundle: largest data input --with-data copies (e.g. 500M, 2G); larger ones are listed as not copied.")
@click.option("--with-code", is_flag=True, help="Bundle: a source archive of each recorded commit with its recorded diff applied (plus the diff and the commit object) in code/.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False), metavar="DIR", help="Bundle: the git checkout that holds the recorded commits [default: the recorded repository, else the current directory's].")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False), metavar="DIR", help="Bundle: look for data inputs here first (DIR/URI, or DIR/FILENAME for absolute paths).")
@click.option("--anonymize", is_flag=True, help="Bundle: for double-blind review, remove user and host names, e-mail addresses, paths, repository URLs and authors from every file the tool writes.")
@click.option("--anonymize-term", "anonymize_terms", multiple=True, metavar="TEXT", help="Bundle, with --anonymize: one more name to remove (repeatable), e.g. a lab or project name.")
@click.option("--archive", is_flag=True, help="Bundle: also write DIR.zip, the same bytes for the same bundle (SOURCE_DATE_EPOCH fixes the times), ready to deposit.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), metavar="KEY", help="Bundle: sign index.json (which lists every file's SHA-256) and each in-toto statement with this ed25519 private key (manifest keygen).")
@passphrase_options("the --sign-key key")
@click.option("--force", is_flag=True, help="Replace manifest files that exist, or a bundle directory that is not empty.")
@quiet_option()
@report_option()
@jobs_option()
def command(**kwargs: Any) -> None:
    """Export MLflow runs as manifests.

    One run goes to standard output by default; several runs (or --experiment, --model) need -o
    DIRECTORY, which gets one manifest per run named RUNNAME-RUNID8.yaml and an index,
    export-index.json (runs, experiments, registered models with every version and alias); an
    --experiment (and --filter) or --model that matches one run may also go to a file or standard
    output. A manifest file that exists is not
    replaced without --force. Exit status: 0 exported, 2 usage error (several runs into one file),
    3 tracking store unreachable or credentials refused, 4 run or experiment not found or deleted
    (or an experiment without runs), 5 run still RUNNING (see --allow-running), a manifest file
    that exists or a bundle directory not empty (see --force).

    With --bundle DIR, the runs become a directory for a paper's supplementary material: manifests,
    results tables, plots, README, index.html, RO-Crate, CITATION.cff, in-toto statements,
    CycloneDX ML-BOMs and SHA256SUMS; --with-data and --with-code make it self-contained, so a
    reviewer can verify and reproduce it offline. Exit status besides the above: 4 a data input or
    commit to bundle not found, 5 an anonymised bundle that would still name someone
    (identity-leak) or an archive that exists, 6 a data input that differs from its recorded digest.
    """
    args = ExportArgs(**kwargs)
    args.check()
    from ..tracking.store import resolve_tracking_uri  # lazy: the tracking layer imports MLflow (~1.5 s)

    uri = resolve_tracking_uri(args.tracking_uri)
    real_stdout = sys.stdout
    sys.stdout = MaskedStream(sys.stderr)  # type: ignore[assignment]  # MLflow may print; only the manifest goes to standard output
    bar, say = messages(args.quiet)
    try:
        if args.whole_store:
            report = _export_all(args, uri, bar, say)
        else:
            report = _bundle(args, uri, bar, say) if args.bundle_dir else _export(args, uri, real_stdout, bar, say)
    finally:
        sys.stdout = real_stdout
    if args.report == "json":
        real_stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _export_all(args: ExportArgs, uri: str, bar: Any, say: Any) -> dict[str, Any]:
    """``--all``: the whole store, then a closing report (counts per kind, what was left out)."""
    from ..tracking.exporting.bulk import export_store  # lazy: MLflow
    from ..tracking.store import client  # lazy: MLflow

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise click.UsageError(f"-o {args.output}: exists and is not a directory")
    done = export_store(client(uri), out, tracking_uri=uri, fmt=args.fmt, options=args.options(bar), log=say, force=args.force)
    missing = [f"model version {m['name']}/{v['version']}: {v['missing']}" for m in load_path(done.index).data.get("registered_models") or [] for v in m["versions"] if "missing" in v] if done.index else []
    left = [f"{x['kind'].replace('_', ' ')} {x['id']}: {x['reason']}" for x in done.not_exported] + missing
    say(f"exported {done.experiments} experiments, {done.runs} runs, {done.registered_models} registered models ({done.model_versions} versions) to {out}/")
    if left:
        say(f"not exported ({len(left)}):")
        for line in left:
            say(f"  {line}")
    return {"experiments": done.experiments, "runs": done.runs, "registered_models": done.registered_models, "model_versions": done.model_versions, "not_exported": left, "index": str(done.index)}


def _runs(args: ExportArgs, cl: Any, uri: str) -> tuple[list[str], list[Any] | None]:
    """The run ids asked for, and the runs themselves when a search found them."""
    from ..tracking.exporting.experiment import find_runs  # lazy: MLflow

    if args.run_ids:
        return list(args.run_ids), None
    runs = find_runs(cl, args.experiment or "", args.filter_string, uri)
    return [r.info.run_id for r in runs], runs


def _model_runs(args: ExportArgs, cl: Any, uri: str, say: Any) -> tuple[list[str], Any]:
    """The runs behind the ``--model`` versions (each once, in version order), and the selection;
    a version whose run is deleted is listed in the index as missing."""
    from ..tracking.exporting.registry import select_model  # lazy: MLflow
    from ..tracking.exporting.run import get_run  # lazy: MLflow

    sel = select_model(cl, args.model or "", uri)
    ids: list[str] = []
    for mv in sel.versions:
        if mv.run_id and mv.run_id not in ids:
            try:
                run = get_run(cl, mv.run_id, uri)
            except NotFound:
                say(f"warning: version {mv.version} of {sel.name!r}: its run {mv.run_id} was not found; the index lists the version as missing")
                continue
            if run.info.lifecycle_stage == "deleted":
                say(f"warning: version {mv.version} of {sel.name!r}: its run {mv.run_id} is deleted; the index lists the version as missing")
                continue
            ids.append(mv.run_id)
    return ids, sel


def _selection(args: ExportArgs) -> dict[str, Any]:
    """What was asked for, as the index records it."""
    return {"run_ids": list(args.run_ids), "experiment": args.experiment, "filter": args.filter_string, "model": args.model}


def _export(args: ExportArgs, uri: str, stdout: Any, bar: Any, say: Any) -> dict[str, Any]:
    from ..tracking.exporting.files import export_to_files  # lazy: MLflow
    from ..tracking.store import client  # lazy: MLflow

    cl = client(uri)
    runs = None
    if args.model:
        ids, model = _model_runs(args, cl, uri, say)
    else:
        (ids, runs), model = _runs(args, cl, uri), None
    if not ids:
        raise NotFound(Problem("no-runs", f"no version of {args.model!r} has a run that can be exported"))
    many = len(ids) > 1 or (bool(args.experiment or args.model) and not _one_file(args.output))  # a filter that matches one run may go to a file
    written = export_to_files(cl, ids, tracking_uri=uri, output=args.output, fmt=args.fmt, options=args.options(bar), many=many, log=say, stdout=stdout, force=args.force, selection=_selection(args), model=model, runs=runs)
    return _report(ids, written, Path(args.output) / "export-index.json" if many else None)


def _report(ids: list[str], written: list[str], index: Path | None) -> dict[str, Any]:
    """``--report json``: each source run and the file that holds it."""
    return {"exported": [{"run_id": r, "file": w} for r, w in zip(ids, written)], "index": str(index) if index is not None and index.is_file() else None}


def _one_file(output: str) -> bool:
    """Whether ``-o`` names one manifest (standard output, or a ``.yaml``/``.json`` file)."""
    from ..tracking.exporting.files import MANIFEST_SUFFIXES  # lazy: the tracking layer imports MLflow (~1.5 s)

    return output == "-" or (output.lower().endswith(MANIFEST_SUFFIXES) and not Path(output).is_dir())


def _bundle(args: ExportArgs, uri: str, bar: Any, say: Any) -> dict[str, Any]:
    from ..tracking.exporting.files import export_to_files  # lazy: MLflow
    from ..tracking.store import client  # lazy: MLflow

    options = args.bundle_options(say)
    cl = client(uri)
    ids, model = _model_runs(args, cl, uri, say) if args.model else (_runs(args, cl, uri)[0], None)
    target = Path(args.bundle_dir or "")
    zip_path = target.with_name(target.name + ".zip")
    if args.archive and zip_path.exists() and not args.force:
        raise Refused(Problem("output-exists", f"{zip_path} exists; pass --force to replace it (with the bundle)"))
    staged = zip_path.with_name(f".{zip_path.name}.new")
    tmp = prepare_dir(target, args.force)
    try:
        written = export_to_files(cl, ids, tracking_uri=uri, output=str(tmp / "manifests"), fmt=args.fmt, options=args.options(bar), many=True, log=say, selection=_selection(args), model=model)
        manifests = [(Path(w), load_path(w).data) for w in written]
        source = {"experiment": args.experiment, "filter": args.filter_string, "tracking_uri": strip_credentials(uri), "citations": [m["citation"] for _, m in manifests if m.get("citation")]}
        write_bundle(tmp, manifests, source={k: v for k, v in source.items() if v}, log=say, options=options)
        if args.archive:  # made before the bundle is put in place: a failure leaves the old bundle and zip
            write_zip(tmp, staged)
        finish(tmp, target)
        if args.archive:
            staged.replace(zip_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        staged.unlink(missing_ok=True)
        raise
    say(f"bundle written to {target}/ ({len(written)} manifests); check it with: manifest validate {target}")
    final = [str(target / Path(w).relative_to(tmp)) for w in written]
    report = {**_report(ids, final, target / "manifests" / "export-index.json"), "bundle": str(target)}
    if args.archive:
        say(f"archive written to {zip_path}")
        report["archive"] = str(zip_path)
    return report


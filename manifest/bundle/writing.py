"""Writing a paper bundle: a fresh directory, then its parts in an order where each part can name
the ones before it, put in place of the old bundle only when complete.

Order: manifests (anonymised first, when asked), data copies and source archives, tables and
plots, in-toto statements, ML-BOMs, CITATION.cff, README, index.html, ro-crate-metadata.json, then
``index.json`` with the size and SHA-256 of every file so far (a signature over it covers them
all), the leak scan of an anonymised bundle, the signatures, and ``SHA256SUMS`` last.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..__about__ import __version__
from ..core.digests import file_digest, tree_files
from ..core.names import safe_name
from ..core.problems import NotFound, Problem, Refused
from ..core.text import one_line
from ..core.times import now_timestamp
from ..document.canonical import manifest_digest
from ..document.writer import dumps
from ..interop.citation import citation_cff
from ..interop.cyclonedx import ml_boms
from ..interop.in_toto import statement
from ..interop.ro_crate import CrateFile, CrateRun, bundle_crate
from . import anonymize as anon
from .contents import CODE_DIR, DATA_DIR, MAX_DATA_BYTES, CodeEntry, DataCopies, archive_code, copy_data, find_repository, is_local_repository
from .html import MANIFEST, render_html
from .layout import ATTESTATIONS, BOMS, BUNDLE_VERSION, CITATION, CRATE, INDEX, PAGE, SIGNATURES, SUMS, UNLISTED, format_sums
from .plots import write_plots
from .readme import render_readme
from .tables import render_latex, render_markdown, results_table
from .toolwheel import TOOLS_DIR, write_tool_wheel


@dataclass(frozen=True)
class BundleOptions:
    """What goes into a bundle besides its manifests, tables, plots and metadata."""

    metrics: list[str] | None = None
    with_data: bool = False
    max_data_bytes: int = MAX_DATA_BYTES
    with_code: bool = False
    repo: Path | None = None
    data_root: Path | None = None
    anonymize: bool = False
    anonymize_terms: tuple[str, ...] = ()
    #: a loaded ed25519 private key (:func:`manifest.signing.keys.load_signing_key`), or None
    sign_key: Any = None


def prepare_dir(out: Path, force: bool) -> Path:
    """A fresh temporary directory beside ``out``; refuse a non-empty ``out`` unless ``force``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise Refused(Problem("bundle-exists", f"{out} exists and is not empty; choose another directory or pass --force to replace it"))
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def finish(tmp: Path, out: Path) -> None:
    """Put the finished bundle in place of ``out`` (the old one is removed only afterwards)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{int(time.time())}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_bundle(tmp: Path, manifests: list[tuple[Path, dict[str, Any]]], *, source: dict[str, Any], log: Callable[[str], None], options: BundleOptions | None = None, metrics: list[str] | None = None) -> list[str]:
    """Add everything but the manifests (already in ``tmp/manifests/``) to ``tmp``; the warnings."""
    opts = options or BundleOptions(metrics=metrics)
    return _Bundle(tmp, manifests, source, opts, log).write()


@dataclass
class _Bundle:
    """One bundle being written."""

    root: Path
    originals: list[tuple[Path, dict[str, Any]]]
    source: dict[str, Any]
    opts: BundleOptions
    log: Callable[[str], None]
    docs: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    code: dict[str, CodeEntry] = field(default_factory=dict)
    data: DataCopies = field(default_factory=DataCopies)
    warnings: list[str] = field(default_factory=list)
    ids: anon.Identities | None = None
    #: bundle path of the wheel of this tool (``tools/``)
    tool: str = ""
    #: source archives made so far, by (commit, diff digest): replicates share one
    archives: dict[tuple[str, str], CodeEntry] = field(default_factory=dict)
    #: SHA-256 of the files written so far, by path: the statements, the crate, the index and
    #: SHA256SUMS all list them, and a data copy can be large (files written once are not changed)
    digests: dict[Path, str] = field(default_factory=dict)

    def sha256(self, p: Path) -> str:
        if p not in self.digests:
            self.digests[p] = file_digest(p)[1]["sha256"]
        return self.digests[p]

    def say(self, line: str) -> None:
        self.warnings.append(line)
        self.log(line)

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def write(self) -> list[str]:
        self.docs = self._anonymize() if self.opts.anonymize else list(self.originals)
        self._contents()
        docs = [m for _, m in self.docs]
        chosen = self.opts.metrics or sorted({k for m in docs for k in (m.get("metrics") or {})})
        table = results_table(docs, chosen)
        (self.root / "results.md").write_text(render_markdown(table), encoding="utf-8")
        (self.root / "results.tex").write_text(render_latex(table), encoding="utf-8")
        plotted = write_plots(self.root / "plots", self.docs, chosen)
        statements = self._attestations()
        self._boms()
        (self.root / CITATION).write_text(citation_cff(docs, date_released=now_timestamp()[:10]), encoding="utf-8")
        self.tool = write_tool_wheel(self.root / TOOLS_DIR)
        index = self._index_head()
        (self.root / "README.md").write_text(render_readme(index, table, plotted, self._contents_summary()), encoding="utf-8")
        plots = {f"{safe_name(p)}.png": (self.root / "plots" / f"{safe_name(p)}.png").read_bytes() for p in plotted}
        (self.root / PAGE).write_text(render_html(index, table, [(self.rel(p), m) for p, m in self.docs], plots, commands=self._commands()), encoding="utf-8")
        self._crate(statements)
        index["files"] = [{"path": rel, "size": p.stat().st_size, "sha256": self.sha256(p)} for rel, p in tree_files(self.root) if rel not in UNLISTED and not rel.startswith(SIGNATURES)]
        (self.root / INDEX).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if self.ids is not None:
            self._scan()
        if self.opts.sign_key is not None:
            from .signatures import sign_bundle  # lazy: signing imports cryptography, only for --sign-key

            sign_bundle(self.root, self.opts.sign_key)
        write_sums(self.root, self.digests)
        self.log(f"bundle: {len(self.docs)} manifests, {len(table['rows'])} table rows, {len(plotted)} plots" + (f", {len(self.archives)} source archive(s)" if self.archives else "") + (f", {len(self.data.placed)} data copies" if self.data.placed else ""))
        return self.warnings

    # ----------------------------------------------------------------- manifests, data, code

    def _anonymize(self) -> list[tuple[Path, dict[str, Any]]]:
        """Rewrite every manifest (and the export index) without identities."""
        self.ids = anon.collect([m for _, m in self.originals], self.opts.anonymize_terms)
        out = []
        for path, m in self.originals:
            clean = anon.anonymize_manifest(m, self.ids)
            path.write_text(dumps(clean, "json" if path.suffix == ".json" else "yaml"), encoding="utf-8")
            out.append((path, clean))
        self._anonymize_export_index()
        self.source = {k: anon.scrub(v, self.ids) if isinstance(v, str) else v for k, v in self.source.items() if k not in ("tracking_uri", "citations")}
        return out

    def _anonymize_export_index(self) -> None:
        path = self.root / "manifests" / "export-index.json"
        if not path.is_file() or self.ids is None:
            return
        data = anon.scrub_data(json.loads(path.read_text(encoding="utf-8")), self.ids, self.ids.pattern())
        (data.get("source") or {})["tracking_uri"] = anon.PLACEHOLDER
        for run in data.get("runs") or []:
            f = path.parent / run["file"]
            if f.is_file():
                run["sha256"] = file_digest(f)[1]["sha256"]
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def _contents(self) -> None:
        """Source archives and data copies, per run; a local-path repository without an archive is
        worth a warning: a reviewer cannot clone it."""
        for (path, m), (_, orig) in zip(self.docs, self.originals):
            code = orig.get("code") or {}
            repo = find_repository(code, self.opts.repo) if (self.opts.with_code or self.opts.with_data) else None
            if self.opts.with_code:
                self._archive(path, orig, repo)
            elif is_local_repository(code):
                self.say(f"warning: run {one_line(orig.get('name') or '')!r}: its repository is a local path ({one_line(code['repository'])}); a reviewer cannot get the code: pass --with-code")
            if self.opts.with_data:
                wd = code.get("working_directory") or ""
                run_dir = (repo / wd) if repo is not None else None
                ids = self.ids
                rename = (lambda t: anon.scrub(t, ids)) if ids is not None else None
                copy_data(self.root, self.rel(path), orig, data_root=self.opts.data_root, run_dir=run_dir, max_bytes=self.opts.max_data_bytes, copies=self.data, log=self.say, rename=rename)

    def _archive(self, path: Path, m: dict[str, Any], repo: Path | None) -> None:
        code = m.get("code") or {}
        if not code.get("commit"):
            self.say(f"warning: run {one_line(m.get('name') or '')!r}: no commit recorded, so no source archive")
            return
        if repo is None:
            raise NotFound(Problem("code-unavailable", f"run {one_line(m.get('name') or '')!r}: commit {code['commit']} is in no repository found (the recorded {one_line(str(code.get('repository')))}, the current directory); pass --repo DIR"))
        diff = None
        if code.get("dirty"):
            ref = (code.get("diff") or {}).get("path")
            diff_file = path.parent / ref if ref else None
            if diff_file is None or not diff_file.is_file():
                self.say(f"warning: run {one_line(m.get('name') or '')!r}: uncommitted changes recorded without their diff; the archive holds the commit alone")
            else:
                diff = diff_file.read_bytes()
        self.code[self.rel(path)] = archive_code(self.root, code, diff, repo=repo, anonymize=self.opts.anonymize, done=self.archives, log=self.say)

    # ----------------------------------------------------------------- metadata

    def _attestations(self) -> dict[str, str]:
        """One in-toto statement per run: manifest path -> statement path."""
        out = {}
        (self.root / ATTESTATIONS).mkdir(exist_ok=True)
        for path, m in self.docs:
            rel = self.rel(path)
            st = statement(m, manifest_ref=(rel, {"sha256": self.sha256(path)}))
            target = f"{ATTESTATIONS}/{path.stem}.intoto.json"
            (self.root / target).write_text(json.dumps(st, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
            out[rel] = target
        return out

    def _boms(self) -> None:
        for path, m in self.docs:
            boms = ml_boms(m)
            if boms:
                (self.root / BOMS).mkdir(exist_ok=True)
            for bom, model in zip(boms, m.get("models") or []):
                (self.root / BOMS / f"{path.stem}.{safe_name(model['name'])}.cdx.json").write_text(json.dumps(bom, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def _crate(self, statements: dict[str, str]) -> None:
        files = [CrateFile(rel, p.stat().st_size, self.sha256(p)) for rel, p in tree_files(self.root) if rel not in UNLISTED and rel != CRATE and not rel.startswith(SIGNATURES)]
        runs = []
        for path, m in self.docs:
            rel = self.rel(path)
            code = self.code.get(rel)
            models = {mo["name"]: f"{self.rel(path.parent)}/{mo['local_path']}/" for mo in m.get("models") or [] if mo.get("local_path") and (path.parent / mo["local_path"]).is_dir()}
            runs.append(CrateRun(rel, m, code.archive if code else None, dict(self.data.copied.get(rel, {})), models, statements.get(rel)))
        exp = self.source.get("experiment") or "ML runs"
        title = f"Supplementary material: {exp}"
        desc = f"{len(self.docs)} machine-learning run(s) described as experiment manifests, with results tables, plots and provenance."
        licenses = {m.get("license") for _, m in self.docs if m.get("license")}
        authors = [] if self.opts.anonymize else _authors([m for _, m in self.docs])
        crate = bundle_crate(files, runs, name=title, description=desc, date_published=now_timestamp()[:10], license=licenses.pop() if len(licenses) == 1 else None, authors=authors)
        (self.root / CRATE).write_text(json.dumps(crate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def _index_head(self) -> dict[str, Any]:
        entries = []
        for path, m in self.docs:
            rel = self.rel(path)
            src = m["provenance"].get("source") or {}
            e: dict[str, Any] = {
                "path": rel, "id": m["id"], "name": m["name"], "run_id": src.get("run_id"),
                "parent_run_id": (m["run"].get("parent") or {}).get("run_id"),
                "sha256": self.sha256(path),
                "canonical_sha256": manifest_digest(m)["sha256"],
            }
            if rel in self.code:
                e["code"] = self.code[rel].to_dict()
            if self.data.copied.get(rel):
                e["data"] = self.data.copied[rel]
            if self.data.not_copied.get(rel):
                ids = self.ids
                e["data_not_copied"] = {k: anon.scrub(v, ids) if ids is not None else v for k, v in self.data.not_copied[rel].items()}
            entries.append(e)
        head = {"bundle_version": BUNDLE_VERSION, "created_at": now_timestamp(), "created_by": {"name": "experiment-manifest", "version": __version__}, **self.source}
        if self.opts.anonymize:
            head["anonymized"] = True
        return {**head, "manifests": entries}

    def _commands(self) -> dict[str, list[str]]:
        """The page's commands, as this bundle supports them (the README gives the same)."""
        verify = [f"sha256sum -c {SUMS}", "manifest validate ."]
        if self.opts.sign_key is not None:
            verify.append("manifest verify . --signature --key KEY.pub")
        verify.append(f"manifest verify {MANIFEST}" + ("" if self.code else " --repo CHECKOUT"))
        reproduce = f"manifest reproduce {MANIFEST} --tracking-uri sqlite:///../review.db" + ("" if self.code else " --repo CHECKOUT")
        return {"Verify": verify, "Reproduce": [reproduce]}

    def _contents_summary(self) -> dict[str, Any]:
        return {"code": sorted({e.archive for e in self.code.values()}), "data": sorted(self.data.placed), "anonymized": self.opts.anonymize, "signed": self.opts.sign_key is not None, "tool": self.tool}

    def _scan(self) -> None:
        """An anonymised bundle: a leak in a file the tool wrote stops the export; identities in
        copied code, data and model files are only reported (rewriting them would break digests)."""
        assert self.ids is not None
        copied = (f"{DATA_DIR}/", f"{CODE_DIR}/")
        files = [rel for rel, _ in tree_files(self.root)]
        shipped = {f"{self.rel(p.parent)}/{rel}" for p, m in self.docs for rel in _shipped(m)}
        theirs = [f for f in files if f.startswith(copied) or f in shipped or any(f.startswith(d.rstrip("/") + "/") for d in shipped)]
        ours = [f for f in files if f not in set(theirs)]
        for rel, kinds in anon.leaks(self.root, theirs, self.ids, copied=True).items():
            self.say(f"warning: --anonymize: {rel} (copied as it is, so its digest holds) contains: {', '.join(kinds)}")
        leaked = anon.leaks(self.root, ours, self.ids)
        if leaked:
            where = "; ".join(f"{rel}: {', '.join(k)}" for rel, k in sorted(leaked.items())[:5])
            raise Refused(Problem("identity-leak", f"--anonymize: identities left in files the tool wrote ({where}); nothing was written. Please report this as a bug"))


def _shipped(v: Any) -> list[str]:
    """Every file or folder a manifest brings along as it was (``local_path`` of models, artifacts,
    config and untracked files; the diff's ``path``): copied, never written by the tool."""
    out: list[str] = []
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "local_path" and isinstance(x, str):
                out.append(x)
            elif k == "diff" and isinstance(x, dict) and isinstance(x.get("path"), str):
                out.append(x["path"])
            else:
                out += _shipped(x)
    elif isinstance(v, list):
        for x in v:
            out += _shipped(x)
    return out


def _authors(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for m in docs:
        for a in m.get("authors") or []:
            seen.setdefault(a.get("orcid") or a["name"], a)
    return list(seen.values())


def write_sums(root: Path, known: dict[Path, str] | None = None) -> None:
    """``SHA256SUMS`` of every other file, written beside and renamed, so a failure keeps the old;
    ``known`` holds digests already taken of files not changed since."""
    known = known or {}
    text = format_sums({rel: known.get(p) or file_digest(p)[1]["sha256"] for rel, p in tree_files(root) if rel != SUMS})
    tmp = root / f".{SUMS}.part"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(root / SUMS)

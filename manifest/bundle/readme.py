"""The README of a bundle: what is inside, how to check, reproduce and cite it."""

from __future__ import annotations

import json
from typing import Any

from ..__about__ import __version__
from ..core.names import safe_name
from .layout import SUMS
from .tables import render_markdown


def render_readme(index: dict[str, Any], table: dict[str, Any], plotted: list[str], contents: dict[str, Any] | None = None) -> str:
    """The reviewer's README; ``contents`` says what the bundle holds besides the manifests
    (``code``, ``data``: bundle paths; ``anonymized``, ``signed``), so every command it gives works
    from the bundle alone."""
    contents = contents or {}
    exp = index.get("experiment")
    lines = [
        f"# Supplementary material: {exp or 'ML runs'}",
        "",
        f"This directory describes {len(index['manifests'])} machine-learning run(s) as experiment manifests "
        f"(spec 1.0, https://experiment-manifest.org/schemas/manifest-1.0.schema.json), written by experiment-manifest {__version__} "
        f"on {index['created_at']}.",
        "",
        "## Contents",
        "",
        "- `manifests/`: one manifest per run (data digests, code commit, environment, typed params, metrics with histories, models); long histories are in sidecar files next to them.",
        "- `index.json`: every manifest with the SHA-256 of its file and of its canonical form (RFC 8785).",
        "- `results.md`, `results.tex` (booktabs, with caption and `\\label{tab:results}`): runs by differing parameters and metrics; replicates as mean ± std with n and a 95% confidence interval (Student's t).",
    ]
    if plotted:
        lines.append("- `plots/`: metric histories by step (replicates as their mean, shaded ± 1 sample std) and final values by configuration (error bars ± 1 sample std): " + ", ".join(f"`{safe_name(p)}.png`" for p in plotted) + ".")
    lines += _contents_lines(contents)
    lines += [
        f"- `{SUMS}`: SHA-256 of every other file.",
        "",
        "## Results",
        "",
        render_markdown(table),
        "## Check it",
        "",
        "Everything below works in this directory, offline; `manifest` is the `experiment-manifest` package, whose version "
        f"{__version__} wrote this bundle: `pip install {contents.get('tool') or f'experiment-manifest=={__version__}'}` installs it "
        "(with `mlflow` and `scikit-learn` for `reproduce`; `manifest env manifests/<run>.yaml --format requirements` gives the run's own packages).",
        "",
        "```sh",
        f"sha256sum -c {SUMS}                  # every file is as published",
        "manifest validate .                      # the index, every manifest and every checksum",
        *(["manifest verify . --signature --key KEY.pub   # the authors' signatures (their public key, from them)"] if contents.get("signed") else []),
        "manifest verify manifests/*.yaml         # data, code and environment against what was recorded",
        "```",
        "",
        "## Reproduce or build on it",
        "",
        "```sh",
        "manifest reproduce manifests/<run>.yaml --tracking-uri sqlite:///../review.db   # re-run, compare every metric",
        "manifest import manifests/ --tracking-uri sqlite:///../review.db                # the runs, in MLflow",
        "```",
        "",
        "(The store lies outside the bundle, which stays as published: `manifest validate .` would report a file it does not list.)",
        "",
        ("The code is in `code/` and the data in `data/`, so `reproduce` needs neither a repository nor the network: "
         "it unpacks the archive, checks it is the recorded commit with the recorded diff (in an anonymised bundle, which leaves out the commit object, "
         "the tree the index records: check the signature), puts the data where the run read it, and runs the recorded command."
         if contents.get("code") else "`reproduce` needs a checkout of the recorded commit: pass `--repo DIR`."),
        "",
        "## Cite",
        "",
    ]
    lines.append("`CITATION.cff` says how to cite this material.")
    lines.append("")
    cites = {json.dumps(c, sort_keys=True) for c in index.get("citations", [])}
    if cites:
        for c in sorted(cites):
            c = json.loads(c)
            lines.append(f"- {c.get('text') or c.get('title') or c.get('doi') or c.get('url')}")
            if c.get("bibtex"):
                lines += ["", "```bibtex", c["bibtex"], "```"]
    else:
        lines.append("Cite the paper this material accompanies; each manifest's `id` identifies one run, and `index.json` gives its digest.")
    return "\n".join(lines) + "\n"


def _contents_lines(contents: dict[str, Any]) -> list[str]:
    lines = [
        "- `attestations/`: one in-toto Statement v1 (SLSA Provenance v1) per run: models as subjects, params and command, commit, data and lockfile.",
        "- `boms/`: one CycloneDX 1.6 ML-BOM per model, with its model card.",
        "- `ro-crate-metadata.json`: this directory as an RO-Crate (Process Run Crate): one CreateAction per run.",
        "- `CITATION.cff`, `index.html` (one self-contained page: open it in a browser).",
    ]
    if contents.get("data"):
        lines.append(f"- `data/`: the data inputs, as the runs read them ({len(contents['data'])} copies, each checked against its recorded digest).")
    if contents.get("code"):
        lines.append("- `code/`: for each commit, `<commit>.tar.gz` (its files, with the recorded uncommitted diff applied), the diff, and the raw commit object where the bundle is not anonymised.")
    if contents.get("anonymized"):
        lines.append("- This bundle is anonymised for double-blind review: names, e-mail addresses, hosts, paths and repository URLs are replaced by `anonymized`.")
    if contents.get("signed"):
        lines.append("- `signatures/`: DSSE envelopes (ed25519) over `index.json`, which lists every file's SHA-256, and over each statement.")
    return lines

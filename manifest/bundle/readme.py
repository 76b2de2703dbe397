"""The README of a bundle: what is inside, how to check, reproduce and cite it."""

from __future__ import annotations

import json
from typing import Any

from ..__about__ import __version__
from ..core.names import safe_name
from .layout import SUMS
from .tables import render_markdown


def render_readme(index: dict[str, Any], table: dict[str, Any], plotted: list[str]) -> str:
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
    lines += [
        f"- `{SUMS}`: SHA-256 of every other file.",
        "",
        "## Results",
        "",
        render_markdown(table),
        "## Check it",
        "",
        "```sh",
        f"sha256sum -c {SUMS}          # every file is as published",
        "manifest validate .              # the index, every manifest and every checksum",
        "```",
        "",
        "## Reproduce or build on it",
        "",
        "```sh",
        "manifest import manifests/ --tracking-uri sqlite:///mlflow.db   # recreate the runs in MLflow",
        "manifest verify manifests/<run>.yaml --repo <checkout>          # data, code and environment as recorded?",
        "manifest reproduce manifests/<run>.yaml                         # re-run and compare every metric",
        "```",
        "",
        "`manifest` is the `experiment-manifest` package (`pip install experiment-manifest[mlflow]`).",
        "",
        "## Cite",
        "",
    ]
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

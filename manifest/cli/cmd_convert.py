"""``manifest convert``: one manifest in a format the publishing ecosystem reads. No MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..core.digests import file_digest
from ..core.problems import BadRequest, Problem
from ..core.text import one_line
from ..document.writer import atomic_write
from ..interop.citation import citation_cff
from ..interop.cyclonedx import ml_boms
from ..interop.in_toto import statement
from ..interop.ro_crate import manifest_crate
from ..spec.validation import load_valid

#: ``--to`` -> what it writes, for the help text.
TARGETS = {
    "ro-crate": "ro-crate-metadata.json: an RO-Crate (Process Run Crate) with the run as a CreateAction",
    "in-toto": "an in-toto Statement v1 with an SLSA Provenance v1 predicate (models as subjects)",
    "cyclonedx": "a CycloneDX 1.6 ML-BOM of one model (--model NAME when the run has several)",
    "citation": "a CITATION.cff (Citation File Format 1.2.0)",
}


def convert(path: str, to: str, model: str | None = None) -> str:
    """The manifest at ``path`` (checked first: an invalid one is refused) as ``to``'s text."""
    doc = load_valid(path)
    m, name = doc.data, Path(path).name
    if to == "ro-crate":
        return _json(manifest_crate(m, name))
    if to == "in-toto":
        return _json(statement(m, manifest_ref=(name, {"sha256": file_digest(path)[1]["sha256"]})))
    if to == "cyclonedx":
        return _json(_one_bom(m, model))
    return citation_cff([m])


def _one_bom(m: dict[str, Any], model: str | None) -> dict[str, Any]:
    names = [mo["name"] for mo in m.get("models") or []]
    if not names:
        raise BadRequest(Problem("usage", "the manifest records no model: a CycloneDX ML-BOM describes one", "/models"))
    if model is None and len(names) > 1:
        raise BadRequest(Problem("usage", f"the manifest records {len(names)} models ({', '.join(one_line(n) for n in names)}); choose one with --model NAME", "/models"))
    pick = model or names[0]
    if pick not in names:
        raise BadRequest(Problem("usage", f"no model {one_line(pick)!r} in the manifest; it records {', '.join(one_line(n) for n in names)}", "/models"))
    return ml_boms(m)[names.index(pick)]


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@click.command("convert")
@click.argument("path", metavar="PATH", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "to", required=True, type=click.Choice(list(TARGETS)), help="; ".join(f"{k}: {v}" for k, v in TARGETS.items()) + ".")
@click.option("--model", metavar="NAME", help="With --to cyclonedx: the model to describe.")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE", type=click.Path(allow_dash=True, dir_okay=False), help="Where to write it (- for standard output); replaced only whole.")
def command(path: str, to: str, model: str | None, output: str) -> None:
    """Convert one manifest into an RO-Crate, an in-toto statement, a CycloneDX ML-BOM or a CITATION.cff.

    The manifest is validated first; an invalid one is refused (exit 1). The output is what
    `manifest export --bundle` writes for the same run (run alone), for tools that read only that
    format. Exit status: 0 written, 1 invalid manifest, 2 usage error.
    """
    if model is not None and to != "cyclonedx":
        raise click.UsageError("--model goes with --to cyclonedx")
    text = convert(path, to, model)
    if output == "-":
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
        click.echo(f"convert: {to} written to {output}", err=True)

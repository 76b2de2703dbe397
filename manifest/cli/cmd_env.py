"""``manifest env``: a manifest's environment as an installer's file. No MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from ..document.envfiles import FORMATS, render
from ..document.writer import atomic_write
from ..spec.validation import load_valid


@dataclass(frozen=True)
class EnvArgs:
    """Every option of ``manifest env``."""

    path: str
    fmt: str
    output: str


@click.command("env")
@click.argument("path", metavar="PATH", type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), required=True, help="requirements.txt lines, MLflow's python_env.yaml, or a conda environment.yml.")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE", type=click.Path(allow_dash=True), help="File to write (atomically), or - for standard output.")
def command(**kwargs: Any) -> None:
    """Write a manifest's environment in a form an installer takes.

    requirements: NAME==VERSION lines, sorted, for every recorded package (pip, setuptools and
    packages once installed from a local path included: the manifest cannot tell them apart).
    python_env: MLflow's python_env.yaml with the requirements inline under dependencies, and pip,
    setuptools and wheel (pinned when recorded) as build_dependencies; needs a recorded Python
    version. conda: an environment.yml from conda-forge with python=X.Y.Z, pip, and every package
    under pip. Exit status 0 written, 1 invalid manifest or no packages recorded, 2 usage error.
    """
    args = EnvArgs(**kwargs)
    doc = load_valid(args.path)
    text = render(doc.data, args.fmt, file=doc.name)
    if args.output == "-":
        click.echo(text, nl=False)
    else:
        atomic_write(args.output, text)
        click.echo(f"manifest: wrote {args.output}", err=True)

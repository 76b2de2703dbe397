"""``manifest verify`` and ``manifest env``: registered on the ``main`` group of :mod:`manifest.cli`.

Neither command imports MLflow.
"""

from __future__ import annotations

import sys

import click

from .cli import main
from .errors import EXIT_INVALID, EXIT_OK

_DIR = click.Path(exists=True, file_okay=False, dir_okay=True)


@main.command("verify")
@click.argument("path", metavar="PATH")
@click.option("--data-root", type=_DIR, metavar="DIR", help="Look for data inputs here: DIR/URI for relative URIs, DIR/FILENAME for absolute paths and file:// or remote URIs not found as they are.")
@click.option("--repo", type=_DIR, metavar="DIR", help="Git checkout to compare with the manifest's code [default: the repository holding the current directory].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output for people or for machines.")
def verify_cmd(path: str, data_root: str | None, repo: str | None, fmt: str) -> None:
    """Check data, code and environment against a manifest, without running anything.

    Each data input is found and its size and every recorded digest compared; the checkout's HEAD,
    uncommitted changes and their diff are compared with the recorded code; the Python version,
    platform and packages of the interpreter running this command are compared with the recorded
    environment. Relative data URIs resolve under --data-root, else in the run's working directory
    of the checkout, else next to the manifest; remote URIs are not checked.

    One line per check, VERDICT  category  subject: reason, then a summary. Exit status 0 when
    nothing fails (warnings allowed), 1 when a check fails or the manifest is invalid, 2 for usage
    errors or an unreadable manifest.
    """
    from .verify import render_json, render_text, verify

    report = verify(path, data_root=data_root, repo=repo)
    click.echo(render_json(report) if fmt == "json" else render_text(report), nl=False)
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


@main.command("env")
@click.argument("path", metavar="PATH")
@click.option("--format", "fmt", type=click.Choice(["requirements", "python_env", "conda"]), required=True, help="requirements.txt lines, MLflow's python_env.yaml, or a conda environment.yml.")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE", help="File to write (atomically), or - for standard output.")
def env_cmd(path: str, fmt: str, output: str) -> None:
    """Write a manifest's environment in a form an installer takes.

    requirements: NAME==VERSION lines, sorted, for every recorded package (pip, setuptools and
    packages once installed from a local path included: the manifest cannot tell them apart).
    python_env: MLflow's python_env.yaml with the requirements inline under dependencies, and pip,
    setuptools and wheel (pinned when recorded) as build_dependencies; needs a recorded Python
    version. conda: an environment.yml from conda-forge with python=X.Y.Z, pip, and every package
    under pip. Exit status 0 written, 1 invalid manifest or no packages recorded, 2 usage error.
    """
    from .envfile import render
    from .validate import load_valid
    from .write import atomic_write

    doc = load_valid(path)
    text = render(doc.data, fmt, file=doc.name)
    if output == "-":
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
        click.echo(f"manifest: wrote {output}", err=True)

"""``manifest sign``: DSSE signatures over an existing bundle's index and statements. No MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..bundle.signatures import check_signable, existing_signatures, sign_bundle
from ..core.problems import EXIT_REFUSED, BadRequest, Problem, Refused
from ..core.text import fs_text
from ..signing.keys import load_signing_key
from .app import to_stderr
from .keys_options import key_inside, passphrase_options, read_passphrase


@click.command("sign")
@click.argument("bundle", metavar="BUNDLE_DIR", type=click.Path(exists=True, file_okay=False, dir_okay=True))
@click.option("--key", "key_path", required=True, metavar="KEY", type=click.Path(exists=True, dir_okay=False), help="The ed25519 private key (from `manifest keygen`).")
@passphrase_options()
@click.option("--force", is_flag=True, help="Replace the bundle's existing signatures.")
def command(bundle: str, key_path: str, passphrase_file: str | None, passphrase_env: str | None, ask_passphrase: bool, force: bool) -> None:
    """Sign a bundle written by `manifest export --bundle`: one DSSE envelope over index.json and
    one over each attestations/*.intoto.json, in signatures/<file>.dsse.json.

    The bundle is checked first, as `manifest validate` checks it (every file against SHA256SUMS,
    the manifests and every file against index.json), and refused if it does not check out, so
    that tampered content is never signed. The envelopes are written with a new SHA256SUMS, each
    through a temporary file, so a failure leaves the old files. The private key is only read;
    one inside the bundle is refused. Prints the envelopes written.

    Exit status 0 when signed, 2 for usage errors (a wrong passphrase, a key that is not ed25519,
    cryptography not installed), 5 when the bundle does not check out or is signed already
    (--force replaces its signatures).
    """
    root = Path(bundle)
    if key_inside(key_path, root):
        raise BadRequest(Problem("usage", f"the private key {fs_text(key_path)} lies inside the bundle {fs_text(bundle)}, which would publish it; keep it outside"))
    key = load_signing_key(key_path, read_passphrase(passphrase_file, passphrase_env, ask_passphrase), log=to_stderr)
    existing = existing_signatures(root)
    if existing and not force:
        raise Refused(Problem("output-exists", f"the bundle is signed already ({len(existing)} files in signatures/); pass --force to replace its signatures", file=fs_text(bundle)))
    problems = check_signable(root)
    if problems:
        for p in problems:
            to_stderr(f"manifest: {p.format()}")
        to_stderr(f"manifest: {fs_text(bundle)}: the bundle does not check out ({len(problems)} problem{'s' if len(problems) != 1 else ''}); it is not signed")
        sys.exit(EXIT_REFUSED)
    written = sign_bundle(root, key, force=force, update_sums=True)
    for rel in written:
        click.echo(rel)
    to_stderr(f"signed {len(written)} file{'s' if len(written) != 1 else ''} of {fs_text(bundle)} with key {key.keyid}; SHA256SUMS updated")

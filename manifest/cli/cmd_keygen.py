"""``manifest keygen``: an ed25519 key pair for signing bundles. No MLflow."""

from __future__ import annotations

import click

from ..core.text import fs_text
from ..signing.keys import generate_key_pair, public_path
from .app import to_stderr
from .keys_options import passphrase_options, read_passphrase


@click.command("keygen")
@click.argument("path", metavar="PATH", type=click.Path(dir_okay=False))
@passphrase_options("the new key")
@click.option("--force", is_flag=True, help="Replace PATH and PATH.pub when they exist.")
def command(path: str, passphrase_file: str | None, passphrase_env: str | None, ask_passphrase: bool, force: bool) -> None:
    """Make an ed25519 key pair: the private key in PATH, the public key in PATH.pub.

    The private key is PKCS#8 PEM, created readable by you alone (mode 0600), and encrypted when a
    passphrase is given; keep it out of every bundle. The public key (SubjectPublicKeyInfo PEM) is
    what reviewers use: `manifest verify BUNDLE --signature --key PATH.pub`. Prints the key id (the
    SHA-256 of the raw public key), which envelopes and messages name. Existing files are refused
    unless --force.

    Exit status 0 when written, 2 for usage errors (also: cryptography not installed), 5 when PATH
    or PATH.pub exists.
    """
    passphrase = read_passphrase(passphrase_file, passphrase_env, ask_passphrase, confirm=True)
    key = generate_key_pair(path, passphrase, force=force)
    how = "encrypted with the passphrase" if passphrase else "not encrypted"
    to_stderr(f"wrote {fs_text(path)} (private key, mode 0600, {how}) and {fs_text(str(public_path(path)))} (public key)")
    click.echo(key.keyid)

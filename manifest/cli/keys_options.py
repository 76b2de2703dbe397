"""The passphrase options of every command that makes or uses a private key, in one place so that
``keygen``, ``sign`` and ``export --sign-key`` take a passphrase the same three ways.

A passphrase never comes from the command line itself (it would show in ``ps`` and shell history):
from the first line of a file, from an environment variable, or typed at a prompt.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from ..core.problems import BadRequest, Problem
from ..core.text import fs_text
from ..document.reader import read_bytes

#: Largest passphrase file read.
MAX_PASSPHRASE_BYTES = 64 * 1024


def passphrase_options(what: str = "the private key") -> Callable[[Any], Any]:
    """``--passphrase-file FILE``, ``--passphrase-env VAR`` and ``--ask-passphrase``, at most one."""

    def add(f: Any) -> Any:
        f = click.option("--ask-passphrase", is_flag=True, help=f"Type the passphrase of {what} at a prompt (hidden).")(f)
        f = click.option("--passphrase-env", metavar="VAR", help=f"Read the passphrase of {what} from the environment variable VAR.")(f)
        f = click.option("--passphrase-file", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True), help=f"Read the passphrase of {what} from the first line of FILE (- for standard input).")(f)
        return f

    return add


def read_passphrase(passphrase_file: str | None, passphrase_env: str | None, ask_passphrase: bool, *, confirm: bool = False) -> bytes | None:
    """The passphrase the options give (UTF-8 bytes), or ``None`` when none was asked for.

    More than one option, an unset variable or an empty passphrase is a usage error (one line).
    ``confirm`` asks twice at the prompt, for a new key.
    """
    given = [name for name, v in (("--passphrase-file", passphrase_file), ("--passphrase-env", passphrase_env), ("--ask-passphrase", ask_passphrase)) if v]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} both give a passphrase; use one")
    if passphrase_file is not None:
        text = _first_line(read_bytes(passphrase_file, max_bytes=MAX_PASSPHRASE_BYTES), passphrase_file)
    elif passphrase_env is not None:
        if passphrase_env not in os.environ:
            raise BadRequest(Problem("usage", f"--passphrase-env: the environment variable {fs_text(passphrase_env)} is not set"))
        text = os.environ[passphrase_env]
    elif ask_passphrase:
        text = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm, default="", show_default=False, err=True)
    else:
        return None
    if not text:
        raise BadRequest(Problem("usage", f"{given[0]}: the passphrase is empty"))
    return text.encode("utf-8")


def _first_line(data: bytes, name: str) -> str:
    """The first line of a passphrase file, without its line ending (nothing else is stripped)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(Problem("usage", "--passphrase-file: the file is not UTF-8 text"), file=fs_text(name)) from None
    return text.split("\n", 1)[0].removesuffix("\r")


def key_inside(key: str | os.PathLike[str], directory: str | os.PathLike[str]) -> bool:
    """Whether the file ``key`` lies inside ``directory`` (links resolved): a private key there would
    be shipped with the bundle."""
    k, d = Path(key).resolve(), Path(directory).resolve()
    return k == d or d in k.parents

"""ed25519 key pairs for signing bundles: made, written and read here, nowhere else.

The private key is PKCS#8 PEM (encrypted with the best encryption ``cryptography`` offers when a
passphrase is given), created with mode 0600 from its first byte; the public key is
SubjectPublicKeyInfo PEM in ``KEY.pub``. A key's id is the hex SHA-256 of its raw 32-byte public
key: it names the key in envelopes and messages, and anyone holding the public key can compute it.

A private key file that other users may read is used, with a warning: ssh refuses such files, but
CI systems commonly hand secrets over as 0644 files, and the key may be passphrase-protected.

``cryptography`` (the ``sign`` extra) is imported only when a key is made or used, so that
``manifest validate`` never pays for it (~33 ms), and its absence is one readable line.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from ..core.problems import EXIT_USAGE, ManifestError, Problem, Refused
from ..core.text import fs_text
from ..document.reader import read_bytes

#: Largest key file read: a PEM ed25519 key is under 300 bytes.
MAX_KEY_BYTES = 64 * 1024
PUBLIC_SUFFIX = ".pub"


class KeyInvalid(ManifestError):
    """A key file that cannot be used (not ed25519, wrong or missing passphrase): a usage error."""

    exit_code = EXIT_USAGE


class SigningUnavailable(ManifestError):
    """``cryptography`` is not installed: the user must install the ``sign`` extra."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class VerifyKey:
    """An ed25519 public key (its raw 32 bytes) and its key id."""

    raw: bytes
    keyid: str

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's ed25519 signature of ``message``."""
        ed25519, _ = _crypto()
        from cryptography.exceptions import InvalidSignature  # lazy: as in _crypto, which has just imported cryptography

        if len(signature) != 64:
            return False
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM, as ``KEY.pub`` holds it."""
        ed25519, serialization = _crypto()
        key = ed25519.Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SigningKey:
    """An ed25519 private key (a ``cryptography`` object, never shown) and its public half."""

    key: Any = field(repr=False)
    public: VerifyKey

    @property
    def keyid(self) -> str:
        return self.public.keyid

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)  # type: ignore[no-any-return]


def keyid_of(raw_public: bytes) -> str:
    """The key id: hex SHA-256 of the raw 32-byte ed25519 public key."""
    return hashlib.sha256(raw_public).hexdigest()


def public_path(path: str | os.PathLike[str]) -> Path:
    """Where the public half of the private key at ``path`` is written: ``PATH.pub``."""
    p = Path(path)
    return p.with_name(p.name + PUBLIC_SUFFIX)


# --------------------------------------------------------------------------- cryptography


def _crypto() -> tuple[ModuleType, ModuleType]:
    """``cryptography``'s ed25519 and serialization modules, or one readable error without them."""
    try:
        from cryptography.hazmat.primitives import serialization  # lazy: ~33 ms, an optional extra, and validate never signs
        from cryptography.hazmat.primitives.asymmetric import ed25519  # lazy: as above
    except ImportError:
        raise SigningUnavailable(Problem("usage", "signing and checking signatures needs the cryptography package: pip install experiment-manifest[sign]")) from None
    return ed25519, serialization


def _verify_key(public: Any) -> VerifyKey:
    _, serialization = _crypto()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return VerifyKey(raw, keyid_of(raw))


# --------------------------------------------------------------------------- making a key pair


def generate_key_pair(path: str | os.PathLike[str], passphrase: bytes | None = None, *, force: bool = False) -> SigningKey:
    """Write a new private key to ``path`` (mode 0600) and its public key to ``path.pub``.

    A missing directory is created (mode 0700). Existing files are refused (``output-exists``)
    unless ``force``; nothing is written then. With
    ``force`` each file is replaced through a temporary file, so the old key stays until the new
    one is complete.
    """
    ed25519, serialization = _crypto()
    priv, pub = Path(path), public_path(path)
    if not force:
        for p in (priv, pub):
            if os.path.lexists(p):
                raise Refused(Problem("output-exists", f"{fs_text(str(p))} exists; choose another path or pass --force to replace the key pair"))
    if passphrase is not None and not passphrase:
        raise KeyInvalid(Problem("key-invalid", "the passphrase is empty; give a non-empty one, or none for an unencrypted key"))
    if not priv.parent.exists():  # a new directory for keys: only its owner may list it
        priv.parent.mkdir(mode=0o700, parents=True)
    key = ed25519.Ed25519PrivateKey.generate()
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    signing = SigningKey(key, _verify_key(key.public_key()))
    _write_new(priv, pem, private=True, replace=force)
    try:
        _write_new(pub, signing.public.pem(), private=False, replace=force)
    except BaseException:
        if not force:  # a private key without its public half would be refused next time
            priv.unlink(missing_ok=True)
        raise
    return signing


def _write_new(path: Path, data: bytes, *, private: bool, replace: bool) -> None:
    """Write ``data`` to a file created with mode 0600, so that a private key is never readable by
    others, not for a moment (a public key is then opened up to 0644 less the umask): directly with
    O_EXCL, or, to replace, to a temporary file renamed over ``path``."""
    target = path
    if replace:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp creates it 0600
        path = Path(tmp)
    else:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise Refused(Problem("output-exists", f"{fs_text(str(path))} exists; choose another path or pass --force to replace the key pair")) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o600 if private else 0o644 & ~_umask())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(path, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- reading keys


def load_signing_key(path: str | os.PathLike[str], passphrase: bytes | str | None = None, *, log: Callable[[str], None] | None = None) -> SigningKey:
    """The ed25519 private key at ``path``, decrypted with ``passphrase`` when it is encrypted.

    Not ed25519, not a private key, a wrong or missing (or superfluous) passphrase: one
    :class:`KeyInvalid` line, which never quotes the file. A file other users may read is
    used, with a warning through ``log`` (see the module's docstring for why it is not refused).
    """
    ed25519, serialization = _crypto()
    name = fs_text(os.fspath(path))
    data = read_bytes(path, max_bytes=MAX_KEY_BYTES)
    _warn_if_readable(path, name, log)
    pw = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if b"PRIVATE KEY-----" not in data:
        hint = "; it is a public key: sign with the private key" if b"PUBLIC KEY-----" in data else ""
        raise KeyInvalid(Problem("key-invalid", f"is not a PEM private key{hint}"), file=name)
    try:
        key = serialization.load_pem_private_key(data, password=pw or None)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
        if pw:
            raise KeyInvalid(Problem("key-invalid", "the key is not encrypted, but a passphrase was given; drop the passphrase option"), file=name) from None
        raise KeyInvalid(Problem("key-invalid", "the key is encrypted; give its passphrase with --passphrase-file, --passphrase-env or --ask-passphrase"), file=name) from None
    except ValueError:  # a wrong passphrase, or a PEM that is not a key
        what = "the passphrase is wrong, or the file is not a valid PEM private key" if pw else "is not a valid PEM private key"
        raise KeyInvalid(Problem("key-invalid", what), file=name) from None
    except Exception as exc:  # noqa: BLE001 - cryptography's UnsupportedAlgorithm and the like: untrusted input
        raise KeyInvalid(Problem("key-invalid", f"cannot be read as a private key ({type(exc).__name__})"), file=name) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyInvalid(Problem("key-invalid", f"is a {_kind(key)} key, not an ed25519 key; make one with `manifest keygen`"), file=name)
    return SigningKey(key, _verify_key(key.public_key()))


def load_public_key(path: str | os.PathLike[str]) -> VerifyKey:
    """The ed25519 public key (SubjectPublicKeyInfo PEM) at ``path``; :class:`KeyInvalid` otherwise."""
    ed25519, serialization = _crypto()
    name = fs_text(os.fspath(path))
    data = read_bytes(path, max_bytes=MAX_KEY_BYTES)
    if b"PRIVATE KEY-----" in data:  # never echoed: say only what it is
        raise KeyInvalid(Problem("key-invalid", f"is a private key; check signatures with the public key ({fs_text(str(public_path(path)))}), and keep the private one to yourself"), file=name)
    try:
        key = serialization.load_pem_public_key(data)
    except Exception as exc:  # noqa: BLE001 - ValueError, UnsupportedAlgorithm: untrusted input
        raise KeyInvalid(Problem("key-invalid", f"is not a PEM public key ({type(exc).__name__})"), file=name) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyInvalid(Problem("key-invalid", f"is a {_kind(key)} key, not an ed25519 key"), file=name)
    return _verify_key(key)


def _kind(key: Any) -> str:
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "") or "different"


def _warn_if_readable(path: str | os.PathLike[str], name: str, log: Callable[[str], None] | None) -> None:
    if os.name != "posix" or log is None:
        return
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        log(f"warning: {name} is readable or writable by other users (mode {mode:04o}); make it private with: chmod 600 {name}")

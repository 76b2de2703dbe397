"""ed25519 key pairs: file modes, key ids, passphrases, and keys that are not what they should be."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from manifest.core.problems import EXIT_REFUSED, EXIT_USAGE, ManifestError
from manifest.signing.keys import KeyInvalid, SigningUnavailable, generate_key_pair, keyid_of, load_public_key, load_signing_key, public_path

posix = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@posix
def test_the_private_key_is_0600_even_under_an_open_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        key = generate_key_pair(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "k.pub").st_mode) == 0o644
    assert key.keyid == hashlib.sha256(key.public.raw).hexdigest() == keyid_of(key.public.raw) and len(key.public.raw) == 32


def test_the_files_are_pkcs8_and_spki_pem_and_load_back(tmp_path: Path):
    key = generate_key_pair(tmp_path / "k")
    text = (tmp_path / "k").read_bytes()
    assert text.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert (tmp_path / "k.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert isinstance(serialization.load_pem_private_key(text, None), ed25519.Ed25519PrivateKey)
    assert load_signing_key(tmp_path / "k").keyid == load_public_key(tmp_path / "k.pub").keyid == key.keyid
    assert "PRIVATE" not in repr(key) and str(key.key) not in repr(key)


def test_a_passphrase_encrypts_the_key_and_only_it_opens_it(tmp_path: Path):
    key = generate_key_pair(tmp_path / "k", b"correct horse")
    assert (tmp_path / "k").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert load_signing_key(tmp_path / "k", "correct horse").keyid == key.keyid
    for wrong, why in ((b"wrong", "passphrase is wrong"), (None, "the key is encrypted; give its passphrase")):
        with pytest.raises(KeyInvalid, match=why) as info:
            load_signing_key(tmp_path / "k", wrong)
        assert info.value.exit_code == EXIT_USAGE and info.value.problems[0].code == "key-invalid"
    generate_key_pair(tmp_path / "plain")
    with pytest.raises(KeyInvalid, match="not encrypted, but a passphrase was given"):
        load_signing_key(tmp_path / "plain", b"x")


def test_existing_key_files_are_refused_unless_force(tmp_path: Path):
    first = generate_key_pair(tmp_path / "k")
    before = (tmp_path / "k").read_bytes()
    for existing in ("k", "k.pub"):
        (tmp_path / "j").unlink(missing_ok=True)
        (tmp_path / "j.pub").unlink(missing_ok=True)
        (tmp_path / existing.replace("k", "j")).write_text("mine")
        with pytest.raises(ManifestError) as info:
            generate_key_pair(tmp_path / "j")
        assert info.value.exit_code == EXIT_REFUSED and info.value.problems[0].code == "output-exists"
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("j")) == [existing.replace("k", "j")]  # nothing else written
    with pytest.raises(ManifestError, match="--force"):
        generate_key_pair(tmp_path / "k")
    assert (tmp_path / "k").read_bytes() == before
    second = generate_key_pair(tmp_path / "k", force=True)
    assert second.keyid != first.keyid and load_public_key(tmp_path / "k.pub").keyid == second.keyid
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def _pem(key: object, private: bool) -> bytes:
    if private:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())  # type: ignore[attr-defined]
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]


@pytest.mark.parametrize("make", [lambda: rsa.generate_private_key(65537, 2048), lambda: ec.generate_private_key(ec.SECP256R1())], ids=["rsa", "ecdsa"])
def test_keys_of_another_algorithm_are_refused(tmp_path: Path, make):
    other = make()
    (tmp_path / "priv").write_bytes(_pem(other, True))
    (tmp_path / "pub").write_bytes(_pem(other, False))
    with pytest.raises(KeyInvalid, match="not an ed25519 key"):
        load_signing_key(tmp_path / "priv")
    with pytest.raises(KeyInvalid, match="not an ed25519 key"):
        load_public_key(tmp_path / "pub")


def test_a_public_key_for_signing_or_a_private_key_for_checking_is_refused_without_quoting_it(tmp_path: Path):
    generate_key_pair(tmp_path / "k")
    with pytest.raises(KeyInvalid, match="it is a public key"):
        load_signing_key(tmp_path / "k.pub")
    with pytest.raises(KeyInvalid, match="is a private key") as info:
        load_public_key(tmp_path / "k")
    secret = (tmp_path / "k").read_text().splitlines()[1]
    assert secret not in str(info.value)
    for junk in (b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"\x00" * 100):
        (tmp_path / "junk").write_bytes(junk)
        with pytest.raises(KeyInvalid):
            load_signing_key(tmp_path / "junk")
        with pytest.raises(KeyInvalid):
            load_public_key(tmp_path / "junk")


@posix
def test_a_private_key_others_may_read_is_used_with_a_warning(tmp_path: Path):
    generate_key_pair(tmp_path / "k")
    said: list[str] = []
    load_signing_key(tmp_path / "k", log=said.append)
    assert said == []
    os.chmod(tmp_path / "k", 0o644)
    load_signing_key(tmp_path / "k", log=said.append)
    assert said == [f"warning: {tmp_path / 'k'} is readable or writable by other users (mode 0644); make it private with: chmod 600 {tmp_path / 'k'}"]


def test_without_cryptography_one_line_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # an import of it now fails
    with pytest.raises(SigningUnavailable) as info:
        generate_key_pair(tmp_path / "k")
    assert info.value.exit_code == EXIT_USAGE
    assert info.value.problems[0].format() == "signing and checking signatures needs the cryptography package: pip install experiment-manifest[sign]"
    assert not (tmp_path / "k").exists() and not public_path(tmp_path / "k").exists()

"""``manifest keygen``, ``manifest sign`` and ``manifest verify --signature``: a synthetic bundle
signed, checked, then altered one way at a time, each alteration named; and the API beneath."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from manifest.bundle.checking import check_bundle
from manifest.bundle.signatures import check_signatures, envelope_path, sign_bundle, sums_text
from manifest.cli.app import main
from manifest.core.digests import file_digest
from manifest.core.problems import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, ManifestError
from manifest.signing import dsse

ENVELOPES = ["signatures/index.json.dsse.json", "signatures/attestations/run-a.intoto.json.dsse.json", "signatures/attestations/run-b.intoto.json.dsse.json"]


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env)


def verify_json(root: Path, pub: Path) -> tuple[int, list[dict[str, Any]]]:
    r = run("verify", str(root), "--signature", "--key", str(pub), "--format", "json")
    assert r.exit_code in (EXIT_OK, EXIT_INVALID), r.output
    return r.exit_code, json.loads(r.stdout)["problems"]


@pytest.fixture
def signed(bundle: Path, signer) -> Path:
    r = run("sign", str(bundle), "--key", str(signer[1]))
    assert r.exit_code == EXIT_OK, r.output
    assert r.stdout.splitlines() == ENVELOPES
    return bundle


# --------------------------------------------------------------------------- keygen


def test_keygen_writes_a_0600_private_key_and_prints_the_key_id(tmp_path: Path):
    r = run("keygen", str(tmp_path / "k"))
    assert r.exit_code == EXIT_OK, r.output
    keyid = r.stdout.strip()
    assert len(keyid) == 64 and int(keyid, 16) >= 0
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert "private key, mode 0600, not encrypted" in r.stderr
    r = run("keygen", str(tmp_path / "k"))
    assert r.exit_code == EXIT_REFUSED and r.stderr.count("\n") == 1 and "--force" in r.stderr
    r = run("keygen", str(tmp_path / "k"), "--force")
    assert r.exit_code == EXIT_OK and r.stdout.strip() != keyid


def test_a_passphrase_from_a_file_the_environment_or_a_prompt(tmp_path: Path, bundle: Path):
    (tmp_path / "pw").write_text("s3cret phrase\n")
    r = run("keygen", str(tmp_path / "k"), "--passphrase-file", str(tmp_path / "pw"))
    assert r.exit_code == EXIT_OK and "encrypted with the passphrase" in r.stderr
    assert (tmp_path / "k").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    (tmp_path / "wrong").write_text("s3cret phras\n")
    r = run("sign", str(bundle), "--key", str(tmp_path / "k"), "--passphrase-file", str(tmp_path / "wrong"))
    assert r.exit_code == EXIT_USAGE and r.stderr == f"manifest: {tmp_path / 'k'}: the passphrase is wrong, or the file is not a valid PEM private key\n"
    assert not (bundle / "signatures").exists()
    r = run("sign", str(bundle), "--key", str(tmp_path / "k"))
    assert r.exit_code == EXIT_USAGE and "the key is encrypted; give its passphrase" in r.stderr and "Traceback" not in r.output
    r = run("sign", str(bundle), "--key", str(tmp_path / "k"), "--passphrase-env", "PW", env={"PW": "s3cret phrase"})
    assert r.exit_code == EXIT_OK, r.output
    r = run("sign", str(bundle), "--key", str(tmp_path / "k"), "--ask-passphrase", "--force", input="s3cret phrase\n")
    assert r.exit_code == EXIT_OK, r.output
    r = run("keygen", str(tmp_path / "k2"), "--ask-passphrase", input="one\ntwo\none\none\n")  # asked twice for a new key
    assert r.exit_code == EXIT_OK and "do not match" in r.stderr


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--passphrase-env", "NOPE"], {}, "the environment variable NOPE is not set"),
    (["--passphrase-env", "EMPTY"], {"EMPTY": ""}, "--passphrase-env: the passphrase is empty"),
    (["--passphrase-env", "PW", "--ask-passphrase"], {"PW": "x"}, "--passphrase-env and --ask-passphrase both give a passphrase"),
])
def test_passphrase_usage_errors(tmp_path: Path, args: list[str], env: dict[str, str], message: str):
    r = run("keygen", str(tmp_path / "k"), *args, env=env)
    assert r.exit_code == EXIT_USAGE and message in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "k").exists()


# --------------------------------------------------------------------------- sign, then verify


def test_a_signed_bundle_verifies_and_still_checks_out(signed: Path, signer):
    r = run("verify", str(signed), "--signature", "--key", str(signer[2]))
    assert r.exit_code == EXIT_OK, r.output
    assert r.stdout == f"signatures of {signed}: every signature verifies with key {signer[0].keyid}, and every file is as signed\n"
    assert check_bundle(signed) == []  # SHA256SUMS covers the envelopes
    env = json.loads((signed / envelope_path("index.json")).read_text())
    assert env["payloadType"] == dsse.INDEX_TYPE and base64.b64decode(env["payload"]) == (signed / "index.json").read_bytes()
    env = json.loads((signed / envelope_path("attestations/run-a.intoto.json")).read_text())
    assert env["payloadType"] == "application/vnd.in-toto+json" and env["signatures"][0]["keyid"] == signer[0].keyid


def test_one_byte_of_results_md_is_named(signed: Path, signer):
    data = bytearray((signed / "results.md").read_bytes())
    data[10] ^= 0x20
    (signed / "results.md").write_bytes(bytes(data))
    r = run("verify", str(signed), "--signature", "--key", str(signer[2]))
    assert r.exit_code == EXIT_INVALID
    want = file_digest(signed / "results.md")[1]["sha256"]
    assert r.stdout.splitlines()[0].startswith(f"{signed / 'results.md'}: results.md: sha256 is {want}, the signed index says ")
    assert r.stdout.splitlines()[-1] == f"signatures of {signed}: 1 problem with key {signer[0].keyid}"
    _, problems = verify_json(signed, signer[2])
    assert [(p["code"], p["file"]) for p in problems] == [("signature-mismatch", str(signed / "results.md"))]


@pytest.mark.parametrize("rel", ["manifests/run-b.yaml", "data/iris/train.csv", "plots/accuracy.png", "README.md"])
def test_any_changed_file_is_named_even_with_sums_and_index_rewritten(signed: Path, signer, rel: str):
    """An attacker who rewrites index.json and SHA256SUMS to match is caught: the signed index holds."""
    with open(signed / rel, "ab") as fh:
        fh.write(b"!")
    index = json.loads((signed / "index.json").read_text())
    for e in index["files"]:
        if e["path"] == rel:
            e["size"], e["sha256"] = file_digest(signed / rel)[0], file_digest(signed / rel)[1]["sha256"]
    (signed / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    (signed / "SHA256SUMS").write_text(sums_text(signed, {}))
    code, problems = verify_json(signed, signer[2])
    assert code == EXIT_INVALID
    assert [(p["code"], p["message"].split(":")[0].split(" ")[0]) for p in problems] == [("signature-mismatch", "index.json"), ("signature-mismatch", rel)]
    assert "size is" in problems[1]["message"]


def test_an_altered_attestation_is_named(signed: Path, signer):
    st = json.loads((signed / "attestations/run-a.intoto.json").read_text())
    st["subject"][0]["digest"]["sha256"] = "0" * 64
    (signed / "attestations/run-a.intoto.json").write_text(json.dumps(st, indent=2, sort_keys=True) + "\n")
    code, problems = verify_json(signed, signer[2])
    assert code == EXIT_INVALID
    assert {p["code"] for p in problems} == {"signature-mismatch"}
    assert all(p["file"] == str(signed / "attestations/run-a.intoto.json") and p["message"].startswith("attestations/run-a.intoto.json: sha256 is ") for p in problems)
    assert "the signed copy in signatures/attestations/run-a.intoto.json.dsse.json" in problems[0]["message"]
    assert "the signed index says" in problems[1]["message"]


def test_a_deleted_envelope_is_signature_missing(signed: Path, signer):
    (signed / envelope_path("attestations/run-b.intoto.json")).unlink()
    code, problems = verify_json(signed, signer[2])
    assert code == EXIT_INVALID
    assert [(p["code"], p["message"]) for p in problems] == [("signature-missing", "attestations/run-b.intoto.json has no signature envelope signatures/attestations/run-b.intoto.json.dsse.json")]
    shutil.rmtree(signed / "signatures")
    _, problems = verify_json(signed, signer[2])
    assert [p["code"] for p in problems] == ["signature-missing"] * 3


def test_another_key_is_signature_invalid_naming_the_key(signed: Path, signer, other):
    code, problems = verify_json(signed, other[2])
    assert code == EXIT_INVALID
    assert [p["code"] for p in problems] == ["signature-invalid"] * 3
    assert problems[0]["message"] == f"signatures/index.json.dsse.json: it is signed by key {signer[0].keyid}, not by key {other[0].keyid}"


def test_an_envelope_moved_over_another_is_refused(signed: Path, signer):
    """A valid envelope of the same key over another file: its payload type (or bytes) give it away."""
    shutil.copy(signed / ENVELOPES[1], signed / ENVELOPES[0])
    shutil.copy(signed / ENVELOPES[1], signed / ENVELOPES[2])
    _, problems = verify_json(signed, signer[2])
    assert problems[0]["code"] == "signature-invalid" and "payloadType is 'application/vnd.in-toto+json'" in problems[0]["message"]
    assert problems[1] == {"code": "signature-mismatch", "severity": "error", "file": str(signed / "attestations/run-b.intoto.json"), "message": problems[1]["message"]}


def test_added_deleted_and_linked_files_are_named(signed: Path, signer, tmp_path: Path):
    (signed / "data" / "extra.csv").write_text("x\n")
    (signed / "results.tex").unlink()
    outside = tmp_path / "outside.md"
    shutil.copy(signed / "README.md", outside)
    (signed / "README.md").unlink()
    (signed / "README.md").symlink_to(outside)  # the same bytes, but not a file of the bundle
    _, problems = verify_json(signed, signer[2])
    messages = sorted(p["message"].split(";")[0] for p in problems)
    assert messages == ["README.md is a symbolic link", "data/extra.csv is in the bundle but not in the files of the signed index", "results.tex is missing"]
    assert {p["code"] for p in problems} == {"signature-mismatch"}


def test_paths_of_a_signed_index_are_never_followed_outside(bundle: Path, signer, tmp_path: Path):
    """A signed index is still untrusted: its paths are looked up among the bundle's files."""
    (tmp_path / "secret.txt").write_text("outside\n")
    index = json.loads((bundle / "index.json").read_text())
    index["files"] += [{"path": "../secret.txt", "size": 8, "sha256": file_digest(tmp_path / "secret.txt")[1]["sha256"]}, {"path": str(tmp_path / "secret.txt"), "size": 8, "sha256": "0" * 64}, {"path": "x", "size": True, "sha256": "0" * 64}, "nonsense"]
    data = (json.dumps(index) + "\n").encode()
    (bundle / "index.json").write_bytes(data)
    (bundle / "signatures").mkdir()
    (bundle / envelope_path("index.json")).write_bytes(dsse.dumps(dsse.sign(data, dsse.INDEX_TYPE, signer[0])))
    problems = [p for p in check_signatures(bundle, signer[0].public) if p.code != "signature-missing"]
    assert [p.code for p in problems] == ["unsafe-path", "unsafe-path", "bundle-index-missing", "bundle-index-missing"]
    assert "contains a '..' segment" in problems[0].message and "is absolute" in problems[1].message


def test_an_unsigned_or_old_index_is_reported(bundle: Path, signer):
    index = json.loads((bundle / "index.json").read_text())
    del index["files"]
    data = json.dumps(index).encode()
    (bundle / "signatures").mkdir()
    (bundle / envelope_path("index.json")).write_bytes(dsse.dumps(dsse.sign(data, dsse.INDEX_TYPE, signer[0])))
    problems = check_signatures(bundle, signer[0].public)
    assert [p.code for p in problems] == ["signature-mismatch", "signature-missing", "signature-missing", "bundle-index-missing"]
    assert problems[-1].message == "the signed index.json has no files list, so it does not cover the bundle's files; export the bundle again"


def test_the_private_key_never_enters_the_bundle(signed: Path, signer):
    pem = signer[1].read_bytes()
    body = b"".join(pem.splitlines()[1:-1])
    raw = signer[0].key.private_bytes_raw()
    for p in signed.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert body not in data and raw not in data and base64.b64encode(raw) not in data, p
    assert sorted(p.relative_to(signed).as_posix() for p in (signed / "signatures").rglob("*") if p.is_file()) == sorted(ENVELOPES)


# --------------------------------------------------------------------------- refusals


def test_a_bundle_that_does_not_check_out_is_not_signed(bundle: Path, signer):
    sums = (bundle / "SHA256SUMS").read_bytes()
    (bundle / "results.md").write_text("tampered\n")
    r = run("sign", str(bundle), "--key", str(signer[1]))
    assert r.exit_code == EXIT_REFUSED
    assert "results.md" in r.stderr and r.stderr.splitlines()[-1] == f"manifest: {bundle}: the bundle does not check out ({len(r.stderr.splitlines()) - 1} problems); it is not signed"
    assert not (bundle / "signatures").exists() and (bundle / "SHA256SUMS").read_bytes() == sums


def test_an_unlisted_file_is_not_signed_either(bundle: Path, signer):
    (bundle / "data" / "extra.csv").write_text("x\n")
    (bundle / "SHA256SUMS").write_text(sums_text(bundle, {}))  # SHA256SUMS covers it, index.json does not
    r = run("sign", str(bundle), "--key", str(signer[1]))
    assert r.exit_code == EXIT_REFUSED and "data/extra.csv is in the bundle but not in the files of index.json" in r.stderr


def test_signing_twice_needs_force_and_replaces_the_signatures(signed: Path, signer, other):
    r = run("sign", str(signed), "--key", str(other[1]))
    assert r.exit_code == EXIT_REFUSED and "signed already" in r.stderr
    r = run("sign", str(signed), "--key", str(other[1]), "--force")
    assert r.exit_code == EXIT_OK, r.output
    assert verify_json(signed, other[2]) == (EXIT_OK, [])
    assert verify_json(signed, signer[2])[0] == EXIT_INVALID
    assert check_bundle(signed) == []


def test_a_private_key_inside_the_bundle_is_refused(bundle: Path, signer):
    shutil.copy(signer[1], bundle / "key")
    r = run("sign", str(bundle), "--key", str(bundle / "key"))
    assert r.exit_code == EXIT_USAGE and "lies inside the bundle" in r.stderr
    assert not (bundle / "signatures").exists()


def test_a_failure_while_writing_leaves_the_old_files(bundle: Path, signer, monkeypatch: pytest.MonkeyPatch):
    before = {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    real, calls = os.fsync, []

    def full_disk(fd: int) -> None:
        calls.append(fd)
        if len(calls) == len(ENVELOPES) + 1:  # the new SHA256SUMS, staged after the envelopes
            raise OSError(28, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        sign_bundle(bundle, signer[0], update_sums=True)
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    assert after == before  # no envelope, no temporary file, the old SHA256SUMS


def test_sign_bundle_without_sums_leaves_them_to_the_caller(bundle: Path, signer):
    """As the export calls it: envelopes only; SHA256SUMS is written afterwards."""
    assert sign_bundle(bundle, signer[0]) == ENVELOPES
    assert [p.code for p in check_bundle(bundle)] == ["bundle-file-unlisted"] * 3
    (bundle / "SHA256SUMS").write_text(sums_text(bundle, {}))
    assert check_bundle(bundle) == [] and check_signatures(bundle, signer[0].public) == []
    with pytest.raises(ManifestError, match="signed already"):
        sign_bundle(bundle, signer[0])


@pytest.mark.parametrize(("args", "message"), [
    (["--signature"], "--signature needs --key PUB"),
    (["--key", "{pub}"], "--key PUB goes with --signature"),
    (["--signature", "--key", "{pub}", "--repo", "."], "do not go with --signature"),
    (["--signature", "--key", "{priv}"], "is a private key; check signatures with the public key"),
])
def test_verify_usage_errors(signed: Path, signer, args: list[str], message: str):
    r = run("verify", str(signed), *[a.format(pub=signer[2], priv=signer[1]) for a in args])
    assert r.exit_code == EXIT_USAGE and message in r.stderr and "Traceback" not in r.output


def test_verify_signature_of_a_file_is_a_usage_error(signed: Path, signer):
    r = run("verify", str(signed / "results.md"), "--signature", "--key", str(signer[2]))
    assert r.exit_code == EXIT_USAGE and "checks bundle directories" in r.stderr


# --------------------------------------------------------------------------- the installed command


@pytest.mark.e2e
def test_keygen_sign_and_verify_through_the_installed_command(cli, bundle: Path, tmp_path: Path):
    (tmp_path / "pw").write_text("pass phrase\n")
    r = cli("keygen", str(tmp_path / "key"), "--passphrase-file", str(tmp_path / "pw"))
    assert r.returncode == 0, r.stderr
    keyid = r.stdout.strip()
    assert stat.S_IMODE(os.stat(tmp_path / "key").st_mode) == 0o600 or os.name != "posix"
    (tmp_path / "bad").write_text("not it\n")
    r = cli("sign", str(bundle), "--key", str(tmp_path / "key"), "--passphrase-file", str(tmp_path / "bad"))
    assert r.returncode == EXIT_USAGE and len(r.stderr.splitlines()) == 1 and "passphrase is wrong" in r.stderr and "Traceback" not in r.stderr
    r = cli("sign", str(bundle), "--key", str(tmp_path / "key"), "--passphrase-file", str(tmp_path / "pw"))
    assert r.returncode == 0, r.stderr
    r = cli("verify", str(bundle), "--signature", "--key", str(tmp_path / "key.pub"))
    assert r.returncode == 0 and keyid in r.stdout, r.stdout + r.stderr
    r = cli("validate", str(bundle))
    assert "1 bundle checked: checksums and index intact" in r.stdout, r.stdout
    with open(bundle / "results.md", "r+b") as fh:
        fh.seek(3)
        c = fh.read(1)
        fh.seek(3)
        fh.write(bytes([c[0] ^ 1]))
    r = cli("verify", str(bundle), "--signature", "--key", str(tmp_path / "key.pub"))
    assert r.returncode == 1 and r.stdout.startswith(f"{bundle / 'results.md'}: results.md: sha256 is ") and "Traceback" not in r.stderr


@pytest.mark.skipif(os.name != "posix" or os.uname().sysname == "Darwin", reason="a file name that is not UTF-8 needs Linux")
def test_a_file_name_that_is_not_utf8_is_named_printably(signed: Path, signer):
    with open(os.fsencode(signed / "data") + b"/caf\xe9.csv", "wb") as fh:
        fh.write(b"x\n")
    r = run("verify", str(signed), "--signature", "--key", str(signer[2]))
    assert r.exit_code == EXIT_INVALID and "data/caf\\xe9.csv is in the bundle but not in the files of the signed index" in r.stdout


def test_sums_text_is_what_write_sums_writes(bundle: Path):
    """``manifest sign`` rewrites SHA256SUMS in the writer's form and order (reusing its digests)."""
    assert sums_text(bundle, {}) == (bundle / "SHA256SUMS").read_text(encoding="utf-8")


def test_a_file_added_below_signatures_is_named(bundle, signer):
    """The signed index does not list signatures/, so anything else found there was added after signing."""
    from manifest.bundle.signatures import check_signatures, sign_bundle
    from manifest.signing.keys import load_public_key

    key, _, pub = signer
    sign_bundle(bundle, key)
    assert check_signatures(bundle, load_public_key(pub)) == []
    (bundle / "signatures" / "evil.sh").write_text("#!/bin/sh\n")
    problems = check_signatures(bundle, load_public_key(pub))
    assert [p.code for p in problems] == ["signature-mismatch"] and "signatures/evil.sh" in problems[0].message

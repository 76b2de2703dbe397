"""DSSE v1 envelopes: the pre-authentication encoding against the spec's own vector, sign and verify,
tampering, strict parsing of untrusted envelopes, and the ecosystem's implementation
(securesystemslib) in both directions."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from manifest.signing import dsse
from manifest.signing.dsse import INDEX_TYPE, STATEMENT_TYPE, SignatureInvalid, pae, sign, verify

STATEMENT = b'{"_type": "https://in-toto.io/Statement/v1", "subject": []}\n'

# --------------------------------------------------------------------------- PAE, from the spec text

# protocol.md 1.0.2, "Test Vectors": SERIALIZED_BODY, PAYLOAD_TYPE and the PAE they give.
SPEC_BODY = b"hello world"
SPEC_TYPE = "http://example.com/HelloWorld"
SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
# ... and its ECDSA P-256 key (X, Y) and the envelope's signature (raw r || s, SHA-256).
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_SIG = "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
SPEC_PAYLOAD_B64 = "aGVsbG8gd29ybGQ="


def test_pae_is_the_spec_test_vector():
    assert pae(SPEC_TYPE, SPEC_BODY) == SPEC_PAE


def test_the_spec_example_signature_verifies_over_our_pae():
    """The spec's ECDSA signature was made over the spec's PAE: checking it over ours shows the two
    are the same bytes, independently of how the expected PAE above was copied."""
    public = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    raw = base64.b64decode(SPEC_SIG)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, pae(SPEC_TYPE, base64.b64decode(SPEC_PAYLOAD_B64)), ec.ECDSA(hashes.SHA256()))  # raises if not


@pytest.mark.parametrize(("ptype", "body", "expected"), [
    ("", b"", b"DSSEv1 0  0 "),  # empty type and body: the separators stay
    ("application/\u00e9", b"x", b"DSSEv1 14 application/\xc3\xa9 1 x"),  # LEN counts UTF-8 bytes, not characters
    ("t", b"a b\n\x00\xff", b"DSSEv1 1 t 6 a b\n\x00\xff"),  # the body is bytes, unescaped
    ("t", b"0" * 1000, b"DSSEv1 1 t 1000 " + b"0" * 1000),  # decimal, no leading zeros
])
def test_pae_lengths_are_decimal_byte_counts(ptype: str, body: bytes, expected: bytes):
    assert pae(ptype, body) == expected


# --------------------------------------------------------------------------- sign and verify


def test_round_trip_gives_the_exact_payload_and_the_envelope_of_envelope_md(signer):
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, key)
    assert list(env) == ["payload", "payloadType", "signatures"]
    assert base64.standard_b64decode(env["payload"]) == STATEMENT and env["payloadType"] == "application/vnd.in-toto+json"
    (s,) = env["signatures"]
    assert set(s) == {"keyid", "sig"} and s["keyid"] == key.keyid and len(base64.standard_b64decode(s["sig"])) == 64
    assert verify(env, key.public) == STATEMENT
    assert verify(json.loads(dsse.dumps(env)), key.public, payload_type=STATEMENT_TYPE) == STATEMENT
    assert dsse.loads(dsse.dumps(env)) == env


def _flip(b64: str, at: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_a_tampered_payload_or_signature_is_refused(signer):
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, key)
    bad = copy.deepcopy(env)
    bad["payload"] = _flip(env["payload"], 5)
    with pytest.raises(SignatureInvalid, match=f"no signature in it verifies with key {key.keyid}"):
        verify(bad, key.public)
    bad = copy.deepcopy(env)
    bad["signatures"][0]["sig"] = _flip(env["signatures"][0]["sig"], 63)
    with pytest.raises(SignatureInvalid, match="no signature in it verifies"):
        verify(bad, key.public)
    bad = copy.deepcopy(env)
    bad["payloadType"] = INDEX_TYPE  # authenticated: PAE covers it
    with pytest.raises(SignatureInvalid, match="no signature in it verifies"):
        verify(bad, key.public)


def test_keyid_narrows_the_keys_tried_but_is_not_needed(signer):
    """protocol.md: KEYID is an unauthenticated hint, only used to narrow the keys tried."""
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, key)
    bad = copy.deepcopy(env)
    bad["signatures"][0]["keyid"] = "f" * 64
    with pytest.raises(SignatureInvalid, match=f"signed by key {'f' * 64}, not by key {key.keyid}"):
        verify(bad, key.public)
    for unset in (None, ""):  # envelope.md: an unset keyid is the same as an empty one, and is tried
        anon = copy.deepcopy(env)
        anon["signatures"][0]["keyid"] = unset
        assert verify(anon, key.public) == STATEMENT
    del anon["signatures"][0]["keyid"]
    assert verify(anon, key.public) == STATEMENT


def test_another_key_and_the_wrong_payload_type_are_refused(signer, other):
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, key)
    with pytest.raises(SignatureInvalid, match=f"signed by key {key.keyid}, not by key {other[0].keyid}"):
        verify(env, other[0].public)
    with pytest.raises(SignatureInvalid, match="payloadType is 'application/vnd.in-toto\\+json', not 'application/vnd.experiment-manifest.bundle-index\\+json'"):
        verify(env, key.public, payload_type=INDEX_TYPE)


def test_one_good_signature_among_several_is_enough(signer, other):
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, other[0])
    env["signatures"].append(sign(STATEMENT, STATEMENT_TYPE, key)["signatures"][0])
    assert verify(env, key.public) == STATEMENT


def test_url_safe_and_unpadded_base64_are_accepted(signer):
    """envelope.md: either standard or URL-safe base64; verifiers must accept either."""
    key, _, _ = signer
    payload = b"\xfb\xff\xfe" * 7 + b"?"  # bytes whose base64 has + and / (- and _ URL-safe), and padding
    env = sign(payload, STATEMENT_TYPE, key)
    assert "+" in env["payload"] or "/" in env["payload"]
    url = copy.deepcopy(env)
    url["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    url["signatures"][0]["sig"] = base64.urlsafe_b64encode(base64.b64decode(env["signatures"][0]["sig"])).decode()
    assert verify(url, key.public) == payload


def test_unknown_members_are_ignored(signer):
    """envelope.md: consumers must ignore fields they do not recognise."""
    key, _, _ = signer
    env = sign(STATEMENT, STATEMENT_TYPE, key)
    env["comment"] = {"x": 1}
    env["signatures"][0]["cert"] = "-----BEGIN CERTIFICATE-----"
    assert verify(env, key.public) == STATEMENT


# --------------------------------------------------------------------------- untrusted envelopes


def _good() -> dict[str, Any]:
    return {"payload": "aGVsbG8=", "payloadType": STATEMENT_TYPE, "signatures": [{"keyid": "", "sig": base64.b64encode(b"\0" * 64).decode()}]}


def _with(**changes: Any) -> dict[str, Any]:
    env = _good()
    for k, v in changes.items():
        if v is KeyError:
            del env[k]
        else:
            env[k] = v
    return env


MALFORMED = {
    "a list": [],
    "a string": "payload",
    "null": None,
    "no payload": _with(payload=KeyError),
    "no payloadType": _with(payloadType=KeyError),
    "no signatures": _with(signatures=KeyError),
    "payload a number": _with(payload=12),
    "payloadType null": _with(payloadType=None),
    "signatures an object": _with(signatures={"sig": "AA=="}),
    "no signature": _with(signatures=[]),
    "too many signatures": _with(signatures=[{"sig": "AA=="}] * 65),
    "signature a string": _with(signatures=["AA=="]),
    "sig missing": _with(signatures=[{"keyid": "x"}]),
    "sig a number": _with(signatures=[{"sig": 5}]),
    "keyid a number": _with(signatures=[{"keyid": 5, "sig": "AA=="}]),
    "keyid huge": _with(signatures=[{"keyid": "k" * 5000, "sig": "AA=="}]),
    "sig huge": _with(signatures=[{"sig": "A" * 100_000}]),
    "sig not base64": _with(signatures=[{"sig": "!!!!"}]),
    "payload not base64": _with(payload="aGVs bG8="),
    "payload bad length": _with(payload="aGVsb"),
    "payload bad padding": _with(payload="aGVsbG8=="),
    "payload mixed alphabets": _with(payload="ab+_"),
    "payloadType huge": _with(payloadType="t" * 2000),
    "payload huge": _with(payload="A" * (dsse.MAX_PAYLOAD_BYTES * 4 // 3 + 8)),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_envelopes_are_one_problem_never_a_traceback(case: str, signer):
    with pytest.raises(SignatureInvalid) as info:
        verify(MALFORMED[case], signer[0].public)
    (problem,) = info.value.problems
    assert problem.code == "signature-invalid" and "\n" not in problem.format() and len(problem.format()) < 300


@pytest.mark.parametrize("data", [
    b"\xff\xfe not UTF-8",
    b'{"payload": "", "payload": ""}',  # duplicate key
    b'{"payload": NaN}',
    b"[" * 100_000,  # deeper than any parser should go
    b"",
    b"{",
])
def test_envelope_files_that_are_not_strict_json_are_refused(data: bytes):
    with pytest.raises(SignatureInvalid) as info:
        dsse.loads(data, "signatures/x.dsse.json")
    assert info.value.problems[0].code == "signature-invalid" and info.value.problems[0].file == "signatures/x.dsse.json"


def test_an_envelope_file_over_the_limit_is_refused_before_parsing():
    with pytest.raises(SignatureInvalid, match="over the limit"):
        dsse.loads(b" " * (dsse.MAX_ENVELOPE_BYTES + 1))


# --------------------------------------------------------------------------- securesystemslib


def _sslib_public(public_pem: bytes, keyid: str | None) -> SSlibKey:
    return SSlibKey.from_crypto(serialization.load_pem_public_key(public_pem), keyid=keyid)


def test_our_envelopes_verify_with_securesystemslib(signer):
    key, priv, pub = signer
    for payload, ptype in ((STATEMENT, STATEMENT_TYPE), (b'{"bundle_version": 1, "files": []}\n', INDEX_TYPE)):
        env = json.loads(dsse.dumps(sign(payload, ptype, key)))
        theirs = Envelope.from_dict(copy.deepcopy(env))
        assert theirs.payload == payload and theirs.payload_type == ptype
        assert theirs.pae() == pae(ptype, payload)
        accepted = theirs.verify([_sslib_public(pub.read_bytes(), key.keyid)], 1)
        assert list(accepted) == [key.keyid]


def test_securesystemslib_envelopes_verify_with_ours(signer):
    key, priv, pub = signer
    private = serialization.load_pem_private_key(priv.read_bytes(), password=None)
    theirs = Envelope(STATEMENT, STATEMENT_TYPE, {})
    theirs.sign(CryptoSigner(private, _sslib_public(pub.read_bytes(), key.keyid)))
    assert verify(theirs.to_dict(), key.public, payload_type=STATEMENT_TYPE) == STATEMENT
    # securesystemslib's own default key id is another hash: it names another key, so it is not
    # tried (the hint narrows); without a key id the signature is tried and verifies.
    default = Envelope(STATEMENT, STATEMENT_TYPE, {})
    default.sign(CryptoSigner(private, _sslib_public(pub.read_bytes(), None)))
    env = default.to_dict()
    assert env["signatures"][0]["keyid"] != key.keyid
    with pytest.raises(SignatureInvalid, match="signed by key"):
        verify(env, key.public)
    env["signatures"][0].pop("keyid")
    assert verify(env, key.public) == STATEMENT

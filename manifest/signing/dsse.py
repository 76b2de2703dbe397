"""DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse, protocol.md and envelope.md 1.0.2).

A signature covers ``PAE(payloadType, payload)``, never the JSON around it, so the envelope's own
bytes (spacing, order, extra members) do not matter and the payload is exactly the bytes of the
file it signs. Envelopes read from a bundle are untrusted: :func:`verify` checks every member's type
and size before decoding anything, and every failure is one ``signature-invalid`` problem.

``keyid`` is an unauthenticated hint (protocol.md): a signature whose key id is set and differs from
the key's is not tried, as in the reference implementation; a signature without one is.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..core.problems import EXIT_INVALID, InvalidManifest, ManifestError, Problem
from ..core.text import one_line, shorten
from ..document.json_reader import parse_json
from ..document.reader import decode
from .keys import SigningKey, VerifyKey

#: The payload type of an in-toto Statement (the in-toto attestation framework's envelope layer).
STATEMENT_TYPE = "application/vnd.in-toto+json"
#: The payload type of a bundle's ``index.json``: application-specific, as protocol.md asks.
INDEX_TYPE = "application/vnd.experiment-manifest.bundle-index+json"
#: Largest payload accepted (decoded): the size of the largest ``index.json`` a bundle check reads.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
#: Largest envelope file read: the payload in base64, and room for signatures.
MAX_ENVELOPE_BYTES = MAX_PAYLOAD_BYTES * 4 // 3 + 1024 * 1024
MAX_SIGNATURES = 64
MAX_TYPE_CHARS = 1024
MAX_KEYID_CHARS = 1024
#: Base64 of the largest signature tried (ed25519's is 64 bytes; RSA-16384's 2 KiB).
MAX_SIG_CHARS = 4096
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class SignatureInvalid(ManifestError):
    """An envelope that is malformed or carries no valid signature by the key."""

    exit_code = EXIT_INVALID


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths in bytes (protocol.md)."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


def sign(payload: bytes, payload_type: str, key: SigningKey) -> dict[str, Any]:
    """The JSON envelope of ``payload`` with one ed25519 signature by ``key`` (standard base64)."""
    sig = key.sign(pae(payload_type, payload))
    return {
        "payload": base64.standard_b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [{"keyid": key.keyid, "sig": base64.standard_b64encode(sig).decode("ascii")}],
    }


def dumps(envelope: dict[str, Any]) -> bytes:
    """The bytes of an envelope file: indented JSON, one line feed at the end."""
    return (json.dumps(envelope, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def loads(data: bytes, name: str = "<envelope>") -> Any:
    """An envelope file's JSON value (strict: UTF-8, no duplicate keys, no NaN); a malformed file
    is :class:`SignatureInvalid`. The shape is checked by :func:`verify`."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise SignatureInvalid(Problem("signature-invalid", f"the envelope is {len(data)} bytes, over the limit of {MAX_ENVELOPE_BYTES}"), file=name)
    try:
        return parse_json(decode(data, name), name)
    except InvalidManifest as exc:
        raise SignatureInvalid(Problem("signature-invalid", f"is not a DSSE envelope: {exc.problems[0].message}"), file=name) from None


def verify(envelope: Any, public_key: VerifyKey, *, payload_type: str | None = None) -> bytes:
    """The payload of ``envelope`` when one of its signatures is ``public_key``'s over
    ``PAE(payloadType, payload)`` (and ``payloadType`` is ``payload_type`` when that is given).

    The payload returned is the one that was verified (protocol.md: never re-parse the envelope
    afterwards). Anything else raises :class:`SignatureInvalid` naming the key id.
    """
    payload, ptype, signatures = parse(envelope)
    message = pae(ptype, payload)
    others = []
    for keyid, sig in signatures:
        if keyid and keyid != public_key.keyid:
            others.append(keyid)
            continue
        if public_key.verify(sig, message):
            break
    else:
        if others and len(others) == len(signatures):
            why = f"it is signed by key {_ids(others)}, not by key {public_key.keyid}"
        else:
            why = f"no signature in it verifies with key {public_key.keyid}"
        raise SignatureInvalid(Problem("signature-invalid", why))
    if payload_type is not None and ptype != payload_type:
        raise SignatureInvalid(Problem("signature-invalid", f"its payloadType is {one_line(shorten(ptype, 80))!r}, not {payload_type!r}: it signs another kind of document"))
    return payload


def _ids(keyids: list[str]) -> str:
    return ", ".join(one_line(shorten(k, 80)) for k in dict.fromkeys(keyids))


def parse(envelope: Any) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """``(payload, payloadType, [(keyid, sig), ...])`` of a JSON envelope, every member checked
    (envelope.md's parsing rules: ``keyid`` may be unset, which is the same as empty; members
    this reader does not know are ignored)."""
    if not isinstance(envelope, dict):
        raise _bad(f"it is a JSON {_json_type(envelope)}, not an object")
    for member, kind in (("payload", str), ("payloadType", str), ("signatures", list)):
        if member not in envelope:
            raise _bad(f"it has no {member!r}")
        if not isinstance(envelope[member], kind):
            raise _bad(f"its {member!r} is a JSON {_json_type(envelope[member])}, not a{' string' if kind is str else 'n array'}")
    if len(envelope["payload"]) > MAX_PAYLOAD_BYTES * 4 // 3 + 4:
        raise _bad(f"its payload is over the limit of {MAX_PAYLOAD_BYTES} bytes")
    ptype = envelope["payloadType"]
    if len(ptype) > MAX_TYPE_CHARS:
        raise _bad(f"its payloadType is over {MAX_TYPE_CHARS} characters")
    payload = b64decode(envelope["payload"], "its payload")
    sigs = envelope["signatures"]
    if not sigs or len(sigs) > MAX_SIGNATURES:
        raise _bad(f"it has {len(sigs)} signatures; an envelope has 1 to {MAX_SIGNATURES}")
    return payload, ptype, [_signature(s, i) for i, s in enumerate(sigs)]


def _signature(s: Any, i: int) -> tuple[str, bytes]:
    if not isinstance(s, dict):
        raise _bad(f"signature {i} is a JSON {_json_type(s)}, not an object")
    keyid = s.get("keyid")
    if keyid is None:
        keyid = ""
    if not isinstance(keyid, str) or len(keyid) > MAX_KEYID_CHARS:
        raise _bad(f"the keyid of signature {i} is not a string of at most {MAX_KEYID_CHARS} characters")
    sig = s.get("sig")
    if not isinstance(sig, str) or len(sig) > MAX_SIG_CHARS:
        raise _bad(f"the sig of signature {i} is not a string of at most {MAX_SIG_CHARS} characters")
    return keyid, b64decode(sig, f"the sig of signature {i}")


def b64decode(text: str, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not (envelope.md: verifiers must accept either);
    ``what`` names the member in the message."""
    alphabet = _B64_STD if _B64_STD.fullmatch(text) else _B64_URL if _B64_URL.fullmatch(text) else None
    if alphabet is None:
        raise _bad(f"{what} is not base64")
    body = text.rstrip("=")
    if len(body) % 4 == 1 or (text != body and len(text) % 4):
        raise _bad(f"{what} is not base64 (wrong length or padding)")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_" if alphabet is _B64_URL else None, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{what} is not base64") from None


def _bad(why: str) -> SignatureInvalid:
    return SignatureInvalid(Problem("signature-invalid", f"is not a valid DSSE envelope: {why}"))


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "number", float: "number"}.get(type(v), type(v).__name__)

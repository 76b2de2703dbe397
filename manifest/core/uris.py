"""URIs that may carry credentials: finding them (for the rules), removing and masking them.

One list of credential-bearing query keys serves the rule that flags them in manifests, export,
which removes them, and every message, which masks them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that carry credentials (flagged in manifests, removed and masked by export).
SECRET_QUERY_KEY = re.compile(r"(?i)^(token|access_token|auth|password|passwd|secret|sig|signature|api[_-]?key|key|x-amz-signature|x-amz-credential|x-amz-security-token)$")


#: A URI inside free text (an argument, a parameter, a message): scheme, ``://``, and the rest up to
#: white space or a quote.
EMBEDDED_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")


def embedded_secret(text: str) -> str | None:
    """Why some URI inside ``text`` seems to carry a credential, or ``None``."""
    if "://" not in text:
        return None
    for m in EMBEDDED_URI.finditer(text):
        why = uri_secret(m.group())
        if why:
            return why
    return None


def mask_text(text: str) -> str:
    """``text`` with the credentials of every URI in it masked (for anything printed)."""
    return EMBEDDED_URI.sub(lambda m: mask_uri(m.group()), text) if "://" in text else text


def uri_secret(uri: str) -> str | None:
    """Why ``uri`` seems to carry a credential, or ``None``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            return "holds a user name and password"
        if parts.scheme in ("http", "https", "ftp"):
            return "holds a user name or token"
    for k, _ in parse_qsl(parts.query, keep_blank_values=True):
        if SECRET_QUERY_KEY.match(k):
            return f"has a {k!r} query parameter"
    return None


def mask_uri(uri: str) -> str:
    """The URI with user name, password and secret query parameters replaced by ``***``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if "@" not in parts.netloc and not parts.query:
        return uri  # nothing to hide (and urlunsplit would change sqlite:////abs/path)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if SECRET_QUERY_KEY.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_credentials(uri: str) -> str:
    """The URI with user name, password and secret query parameters removed (for manifests)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if not parts.scheme or not parts.netloc:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    if parts.scheme in ("ssh", "git+ssh") and "@" in parts.netloc:
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        netloc = f"{user}@{netloc}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not SECRET_QUERY_KEY.match(k)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_source_credentials(source: str) -> str:
    """A JSON text (an MLflow dataset source) with credentials removed from every URI in it."""
    try:
        data = json.loads(source) if source else None
    except ValueError:
        return source
    if data is None:
        return source

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, str) and "://" in v:
            return strip_credentials(v)
        return v

    cleaned = clean(data)
    return source if cleaned == data else json.dumps(cleaned)

"""roc-validator run offline: its HTTP cache filled from the JSON-LD contexts shipped in ``jsonld/``.

roc-validator (``make tools`` puts it in ``.tools/roc``, a venv of its own) resolves every remote
``@context`` through one ``requests_cache`` session (``rocrate_validator.utils.http.HttpRequester``,
an SQLite cache named by ``--cache-path``). With ``--offline`` it serves only cached responses and
fails on a miss instead of reaching the network. This machine has no internet, and a test must not
depend on it anyway, so :func:`fill_cache` builds that cache in a temporary directory with the
validator's own interpreter and its own requester: a transport adapter that answers from the files in
``jsonld/`` (and refuses any other URL) is mounted on the requester's session, and each context URL
is fetched once through it, so the entries have exactly the keys and serialisation the validator
looks up. Nothing else is read from or written to the user's cache (``XDG_CACHE_HOME`` points into
the temporary directory too).

Run by the validator's interpreter, this file is also the script that fills the cache
(``python rocrate_offline.py fill CACHE URL=FILE...``); imported by the tests, it uses only the
standard library and pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ROC = ROOT / ".tools" / "roc"
VALIDATOR = ROC / "bin" / "rocrate-validator"
ROC_PYTHON = ROC / "bin" / "python"
JSONLD = Path(__file__).resolve().parent / "jsonld"

#: The JSON-LD documents a crate of ours makes the validator fetch, by URL, and the shipped copy of each.
#: ``ro-crate-1.1-context.jsonld`` is the RO-Crate 1.1 context exactly as the ``rocrate`` 0.13.0 wheel
#: ships it (``rocrate/data/ro-crate.jsonld``, ``"@id": "https://w3id.org/ro/crate/1.1/context"``;
#: CC0-1.0), see ``jsonld/README.md``.
CONTEXTS = {"https://w3id.org/ro/crate/1.1/context": "ro-crate-1.1-context.jsonld"}

PROFILE = "process-run-crate"


def require_validator() -> Path:
    """The validator's command; a test that needs it FAILS (never skips) when it is missing."""
    if not VALIDATOR.is_file() or not ROC_PYTHON.is_file():
        import pytest  # lazy: the script half of this file runs without pytest

        pytest.fail(f"roc-validator is not installed ({VALIDATOR} is missing): run make tools", pytrace=False)
    return VALIDATOR


def _env(home: Path) -> dict[str, str]:
    """The validator's environment: caches and home inside ``home``, no colour, no pager."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "REQUESTS_", "CURL_"))}
    env.update({"XDG_CACHE_HOME": str(home / "xdg-cache"), "NO_COLOR": "1", "TERM": "dumb", "PAGER": "cat", "COLUMNS": "200"})
    return env


def fill_cache(directory: Path) -> Path:
    """An HTTP cache for ``--cache-path`` in ``directory``, holding every document of :data:`CONTEXTS`."""
    require_validator()
    directory.mkdir(parents=True, exist_ok=True)
    cache = directory / "http-cache"
    pairs = [f"{url}={JSONLD / name}" for url, name in sorted(CONTEXTS.items())]
    done = subprocess.run([str(ROC_PYTHON), str(Path(__file__).resolve()), "fill", str(cache), *pairs], capture_output=True, text=True, env=_env(directory), timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"filling the validator's cache failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return cache


@dataclass(frozen=True)
class Verdict:
    """What the validator said of one crate."""

    returncode: int
    report: dict[str, Any]
    stderr: str

    @property
    def passed(self) -> bool:
        """Valid for the profile: exit status 0 *and* the JSON report agrees (either alone could lie)."""
        return self.returncode == 0 and self.report.get("passed") is True

    def issues(self) -> list[dict[str, Any]]:
        return list(self.report.get("issues") or [])

    def summary(self) -> str:
        """One line per issue, for assertion messages and the report."""
        lines = [f"exit {self.returncode}, passed={self.report.get('passed')}"]
        for issue in self.issues():
            check = issue.get("check") or {}
            lines.append(f"{issue.get('severity')} {check.get('identifier', '?')} {check.get('name', '')}: {issue.get('message', '')} [{issue.get('violatingEntity') or ''}]")
        if not self.report:
            lines.append(self.stderr[-4000:])
        return "\n".join(lines)


def validate(crate: Path, cache: Path, *, severity: str = "required", work: Path | None = None) -> Verdict:
    """Run the validator offline on the crate directory ``crate`` for :data:`PROFILE` at ``severity``."""
    validator = require_validator()
    work = work or cache.parent
    report = work / f"report-{crate.name}-{severity}.json"
    cmd = [
        str(validator), "--no-interactive", "--disable-color",
        "validate", "--offline", "--cache-path", str(cache), "--profile-identifier", PROFILE, "--requirement-severity", severity,
        "--output-format", "json", "--output-file", str(report), "--no-paging", str(crate),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(work), timeout=300, check=False)
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return Verdict(done.returncode, data, done.stdout + done.stderr)


# --------------------------------------------------------------------------- run by the validator's interpreter


def _fill(cache: str, pairs: list[str]) -> None:
    """Fetch each URL once through the validator's requester, answered from a local file."""
    import io  # lazy: the script half of this file

    from requests.adapters import BaseAdapter, HTTPAdapter  # lazy: only the validator's venv has requests
    from rocrate_validator.utils.http import HttpRequester  # lazy: likewise
    from urllib3 import HTTPResponse  # lazy: likewise

    files = dict(pair.split("=", 1) for pair in pairs)

    class LocalFiles(BaseAdapter):
        """Answers the listed URLs from their files, and nothing else: no request leaves the machine."""

        def send(self, request: Any, **kwargs: Any) -> Any:
            if request.url not in files:
                raise ConnectionError(f"not shipped in tests/support/jsonld: {request.url}")
            body = Path(files[request.url]).read_bytes()
            raw = HTTPResponse(body=io.BytesIO(body), headers={"Content-Type": "application/ld+json", "Content-Length": str(len(body))}, status=200, preload_content=False, decode_content=False)
            return HTTPAdapter().build_response(request, raw)

        def close(self) -> None:
            pass

    requester = HttpRequester.initialize_cache(cache_path=cache, cache_max_age=-1, offline=False)
    for prefix in ("https://", "http://"):
        requester.session.mount(prefix, LocalFiles())
    for url in files:
        response = requester.get(url, headers={"Accept": "application/ld+json, application/json"})
        if response.status_code != 200 or not requester.has_cached(url):
            raise SystemExit(f"{url} was not cached (status {response.status_code})")
        json.loads(response.content)
    requester.session.close()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "fill":
        raise SystemExit("usage: rocrate_offline.py fill CACHE URL=FILE...")
    _fill(sys.argv[2], sys.argv[3:])

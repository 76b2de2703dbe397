"""Cross-field rules: what JSON Schema cannot say. Run on documents that already fit the schema.

Each rule yields :class:`~manifest.errors.Problem` objects with a stable ``code`` and a JSON
pointer. The spec lists every rule (section "Rules beyond the schema").
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

from .errors import Problem
from .parse import NON_FINITE
from .positions import join_pointer

TERMINAL = {"FINISHED", "FAILED", "KILLED"}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
#: Query parameters that carry credentials (flagged in manifests, removed and masked by export).
SECRET_QUERY_KEY = re.compile(r"(?i)^(token|access_token|auth|password|passwd|secret|sig|signature|api[_-]?key|key|x-amz-signature|x-amz-credential|x-amz-security-token)$")


def check(data: dict[str, Any], base_dir: Path | None = None) -> list[Problem]:
    """Every rule violation in a manifest; sidecars are read when ``base_dir`` is given.

    Rules are written for documents that fit the schema; on one that does not, a rule that meets a
    part of the wrong shape stays silent (the schema problem is reported instead).
    """
    out: list[Problem] = []
    for rule in (_run_times, _code, _paths, _data_inputs, _template, _credentials, _metrics, _models):
        try:
            out.extend(rule(data))
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            pass  # the part of the document this rule reads does not fit the schema; that is reported already
    if base_dir is not None:
        out.extend(check_sidecars(data, base_dir))
    return out


def _run_times(d: dict[str, Any]) -> Iterator[Problem]:
    run = d["run"]
    end = run.get("end_time")
    if end is not None and end < run["start_time"]:  # fixed-width UTC form: text order is time order
        yield Problem("end-before-start", f"end_time {end} is before start_time {run['start_time']}", "/run/end_time")
    if end is None and run["status"] in TERMINAL:
        yield Problem("end-time-missing", f"a {run['status']} run should have an end_time", "/run", severity="warning")
    if end is not None and run["status"] == "RUNNING":
        yield Problem("end-time-while-running", "a RUNNING run has an end_time", "/run/end_time", severity="warning")


def _code(d: dict[str, Any]) -> Iterator[Problem]:
    code = d.get("code")
    if not code:
        return
    has_diff = "diff" in code or "diff_digest" in code
    if code.get("dirty") is True and not has_diff:
        yield Problem("dirty-without-diff", "the working tree was dirty but neither diff nor diff_digest is given", "/code/dirty")
    if code.get("dirty") is False and has_diff:
        yield Problem("diff-when-clean", "a diff is given but dirty is false", "/code/diff" if "diff" in code else "/code/diff_digest", severity="warning")
    if "diff" in code and "diff_digest" in code:
        a, b = code["diff"]["digest"], code["diff_digest"]
        for alg in set(a) & set(b):
            if a[alg] != b[alg]:
                yield Problem("diff-digest-mismatch", f"diff_digest.{alg} differs from diff.digest.{alg}", f"/code/diff_digest/{alg}")
    if "commit" not in code and "repository" in code:
        yield Problem("commit-missing", "a repository is named without the commit that ran", "/code", severity="warning")


def relative_path_problem(path: str) -> str | None:
    """Why ``path`` is not a safe relative POSIX path, or ``None`` when it is."""
    if "\\" in path:
        return "uses a backslash; paths use forward slashes"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "is absolute; it must be relative to the manifest's directory"
    parts = path.split("/")
    if ".." in parts:
        return "contains a '..' segment"
    if any(p == "" for p in parts[:-1]) or path.endswith("/") and path != "":
        return "has an empty segment"
    if "\x00" in path:
        return "contains a NUL character"
    return None


def _relative_paths(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    code = d.get("code") or {}
    if "diff" in code:
        yield "/code/diff/path", code["diff"]["path"]
    env = d.get("environment") or {}
    if "lockfile" in env and "path" in env["lockfile"]:
        yield "/environment/lockfile/path", env["lockfile"]["path"]
    for i, inp in enumerate(d.get("data") or []):
        idx = (inp.get("split") or {}).get("indices")
        if idx:
            yield f"/data/{i}/split/indices/path", idx["path"]
    for name, m in (d.get("metrics") or {}).items():
        if "history_file" in m:
            yield join_pointer(["metrics", name, "history_file", "path"]), m["history_file"]["path"]
    for i, a in enumerate(d.get("artifacts") or []):
        if "local_path" in a:
            yield f"/artifacts/{i}/local_path", a["local_path"]
    for i, m in enumerate(d.get("models") or []):
        if "local_path" in m:
            yield f"/models/{i}/local_path", m["local_path"]
        for j, f in enumerate(m.get("files") or []):
            yield f"/models/{i}/files/{j}/path", f["path"]


def _paths(d: dict[str, Any]) -> Iterator[Problem]:
    for ptr, path in _relative_paths(d):
        why = relative_path_problem(path)
        if why:
            yield Problem("unsafe-path", f"path {path!r} {why}", ptr)


def _data_inputs(d: dict[str, Any]) -> Iterator[Problem]:
    inputs = d.get("data") or []
    seen: dict[str, int] = {}
    for i, inp in enumerate(inputs):
        if inp["name"] in seen:
            yield Problem("duplicate-name", f"data input name {inp['name']!r} is already used by /data/{seen[inp['name']]}", f"/data/{i}/name")
        seen.setdefault(inp["name"], i)
    for i, inp in enumerate(inputs):
        split = inp.get("split")
        if split and (split["of"] not in seen or split["of"] == inp["name"]):
            yield Problem("split-unknown-input", f"split.of {split['of']!r} names no other data input", f"/data/{i}/split/of")
        if inp.get("kind") == "memory" and "uri" in inp:
            yield Problem("memory-with-uri", "an in-memory input has a uri", f"/data/{i}/uri", severity="warning")


def template_fields(template: list[str]) -> tuple[list[str], list[int]]:
    """Parameter names used by a command template, and indexes of malformed arguments."""
    names: list[str] = []
    bad: list[int] = []
    for i, arg in enumerate(template):
        for m in _PLACEHOLDER.finditer(arg):
            tok = m.group(0)
            if tok in ("{{", "}}"):
                continue
            if m.group(1) is None or m.group(1) == "":
                bad.append(i)
                break
            names.append(m.group(1))
    return names, bad


def _template(d: dict[str, Any]) -> Iterator[Problem]:
    tpl = (d.get("code") or {}).get("command_template")
    if not tpl:
        return
    names, bad = template_fields(tpl)
    for i in bad:
        yield Problem("template-syntax", f"argument {tpl[i]!r} has an unmatched brace or an empty placeholder (write {{{{ and }}}} for literal braces)", f"/code/command_template/{i}")
    params = d.get("params") or {}
    for i, arg in enumerate(tpl):
        if i in bad:
            continue
        for m in _PLACEHOLDER.finditer(arg):
            if m.group(1) and m.group(1) not in params:
                yield Problem("template-unknown-param", f"placeholder {{{m.group(1)}}} names no parameter in params", f"/code/command_template/{i}")


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


def _uris(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    src = (d.get("provenance") or {}).get("source") or {}
    for k in ("tracking_uri", "run_url"):
        if k in src:
            yield f"/provenance/source/{k}", src[k]
    code = d.get("code") or {}
    if "repository" in code:
        yield "/code/repository", code["repository"]
    for i, inp in enumerate(d.get("data") or []):
        if "uri" in inp:
            yield f"/data/{i}/uri", inp["uri"]
    for i, a in enumerate(d.get("artifacts") or []):
        if "uri" in a:
            yield f"/artifacts/{i}/uri", a["uri"]
    for i, m in enumerate(d.get("models") or []):
        if "uri" in m:
            yield f"/models/{i}/uri", m["uri"]


def _credentials(d: dict[str, Any]) -> Iterator[Problem]:
    for ptr, uri in _uris(d):
        why = uri_secret(uri)
        if why:
            yield Problem("credentials-in-uri", f"URI {why}; remove credentials before sharing a manifest", ptr)


def same_real(a: Any, b: Any) -> bool:
    """Equality of manifest reals, where ``"NaN"`` equals ``"NaN"`` and NaN floats equal each other."""
    fa, fb = to_float(a), to_float(b)
    return fa == fb or (math.isnan(fa) and math.isnan(fb))


def to_float(v: Any) -> float:
    """A manifest real (number, or "NaN"/"Infinity"/"-Infinity") as a float."""
    return NON_FINITE[v] if isinstance(v, str) else float(v)


def history_problems(cols: dict[str, Any], ptr: str) -> Iterator[Problem]:
    """Rules of one history's own columns (inline or sidecar): equal lengths and order."""
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    if not (len(steps) == len(times) == len(values)):
        yield Problem("history-length-mismatch", f"step, timestamp and value have {len(steps)}, {len(times)} and {len(values)} items; they must be equal", ptr)
        return
    for i in range(1, len(steps)):
        if steps[i] < steps[i - 1]:
            yield Problem("history-steps-decreasing", f"step {steps[i]} follows step {steps[i - 1]}; points must be ordered by step", f"{ptr}/step/{i}")
            return
        if steps[i] == steps[i - 1] and times[i] < times[i - 1]:
            yield Problem("history-timestamps-decreasing", f"at step {steps[i]}, timestamp {times[i]} follows {times[i - 1]}; points of one step must be ordered by timestamp", f"{ptr}/timestamp/{i}")
            return


def final_value_problems(cols: dict[str, Any], metric: dict[str, Any], metric_ptr: str) -> Iterator[Problem]:
    """The metric's final value (and step, timestamp) must be those of the history's last point."""
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    if not steps or not (len(steps) == len(times) == len(values)):
        return
    last_step, last_time = steps[-1], times[-1]
    finals = [values[i] for i in range(len(steps) - 1, -1, -1) if steps[i] == last_step and times[i] == last_time]
    if not any(same_real(metric["value"], v) for v in finals):
        yield Problem("final-value-mismatch", f"value {metric['value']!r} is not the value of the history's last point ({finals[0]!r} at step {last_step})", f"{metric_ptr}/value")
    if "step" in metric and metric["step"] != last_step:
        yield Problem("final-step-mismatch", f"step {metric['step']} is not the history's last step {last_step}", f"{metric_ptr}/step")
    if "timestamp" in metric and metric["timestamp"] != last_time:
        yield Problem("final-timestamp-mismatch", f"timestamp {metric['timestamp']} is not the history's last timestamp {last_time}", f"{metric_ptr}/timestamp")


def _metrics(d: dict[str, Any]) -> Iterator[Problem]:
    for name, m in (d.get("metrics") or {}).items():
        mptr = join_pointer(["metrics", name])
        if "history" in m:
            own = list(history_problems(m["history"], f"{mptr}/history"))
            yield from own
            if not own:
                yield from final_value_problems(m["history"], m, mptr)


def _models(d: dict[str, Any]) -> Iterator[Problem]:
    from .digest import listing_digest

    for i, m in enumerate(d.get("models") or []):
        files = m.get("files")
        if not files:
            continue
        paths = [f["path"] for f in files]
        if len(set(paths)) != len(paths):
            yield Problem("duplicate-path", "a file path is listed twice", f"/models/{i}/files")
            continue
        if "size" in m and m["size"] != sum(f["size"] for f in files):
            yield Problem("model-size-mismatch", f"size {m['size']} is not the sum of the files' sizes ({sum(f['size'] for f in files)})", f"/models/{i}/size")
        want = (m.get("digest") or {}).get("sha256")
        if want and all("sha256" in f["digest"] for f in files):
            got = listing_digest((f["path"], f["digest"]["sha256"]) for f in files)
            if got != want:
                yield Problem("model-digest-mismatch", "digest.sha256 is not the directory digest of the listed files", f"/models/{i}/digest/sha256")


def sidecar_paths(d: dict[str, Any], base_dir: Path) -> list[Path]:
    """Files referenced as history sidecars (resolved; only safe paths)."""
    out: list[Path] = []
    metrics = d.get("metrics")
    if not isinstance(metrics, dict):
        return out
    for m in metrics.values():
        hf = m.get("history_file") if isinstance(m, dict) else None
        if isinstance(hf, dict) and isinstance(hf.get("path"), str) and relative_path_problem(hf["path"]) is None:
            out.append((base_dir / PurePosixPath(hf["path"])).resolve())
    return out


def check_sidecars(d: dict[str, Any], base_dir: Path) -> Iterator[Problem]:
    from .sidecar import check_sidecar

    for name, m in (d.get("metrics") or {}).items():
        if "history_file" in m:
            yield from check_sidecar(base_dir, m["history_file"], m, join_pointer(["metrics", name]))

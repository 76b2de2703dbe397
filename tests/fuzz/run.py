"""Property-based fuzzing of the reader, the validator, the digests and import planning.

    make fuzz                     # FUZZ_SECONDS=600 by default
    .venv/bin/python tests/fuzz/run.py --seconds 60 [--target reader]

Each target runs in a child process, so that a crash of the interpreter (a segmentation fault in
a C extension) is caught and reported, not lost. A target fails on any exception other than the
package's own errors (:class:`manifest.core.problems.ManifestError`): those are the documented
answer to bad input. Every failure found becomes a regular test (``tests/document``, ``tests/spec``).
Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("reader", "yaml-agreement", "validator", "digests", "planning")


def _json_values() -> Any:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=60)


_YAML_BITS = ["- ", "? ", ": ", "[", "]", "{", "}", ",", "!!int ", "!!bool ", "!!float ", "!!null ", "!!str ", "!!python/object ", "&a ", "*a", "<<: ",
              "\n", "  ", "\t", "'", '"', "#", "1e400", "9" * 30, ".nan", "-.inf", "0x1F", "0o7", "~", "null", "true", "key", "---", "...", "%YAML 1.2\n", "\\u0000", "\x00", "\ud800"]


def target_reader(seconds: float) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from manifest.core.problems import ManifestError
    from manifest.document.reader import parse_text

    texts = st.lists(st.sampled_from(_YAML_BITS) | st.text(max_size=8), max_size=60).map("".join) | st.text(max_size=300)

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(texts, st.sampled_from(["yaml", "json"]))
    def one(text: str, fmt: str) -> None:
        try:
            parse_text(text, fmt)  # type: ignore[arg-type]
        except ManifestError:
            pass

    _until(seconds, one)


def target_yaml_agreement(seconds: float) -> None:
    """The reader builds YAML values from parser events; where ruamel's own loader (same resolver)
    and the reader both read a text, they must give the same value. (They may differ in what they
    refuse: the reader refuses non-string keys, recursive aliases and tags ruamel would build.)"""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(ROOT / "tests"))
    from support.yaml_reference import reference_load

    from manifest.core.problems import ManifestError
    from manifest.document.reader import parse_text

    bits = [b for b in _YAML_BITS if b not in ("\x00", "\ud800")]
    texts = st.lists(st.sampled_from(bits) | st.text(alphabet="abc01.-: \n[]{},'\"&*!", max_size=6), max_size=40).map("".join)

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(texts)
    def one(text: str) -> None:
        if "! " in text or text.rstrip().endswith("!"):
            return  # the non-specific tag: the reader follows YAML 1.2 (a string), ruamel does not
        try:
            ours = parse_text(text, "yaml").data
        except ManifestError:
            return
        try:
            ref = reference_load(text)
        except Exception:  # noqa: BLE001 - ruamel refusing what the reader read is reported below only for values
            return
        if ours != ref and ref is not None:
            raise AssertionError(f"reader and ruamel differ on {text!r}: {ours!r} != {ref!r}")

    _until(seconds, one)


def target_validator(seconds: float) -> None:
    from hypothesis import HealthCheck, given, settings

    from manifest.spec.validation import validate_data

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_mutated_example())
    def one(doc: Any) -> None:
        validate_data(doc)  # returns problems; raising anything is a bug

    _until(seconds, one)


def target_digests(seconds: float) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from manifest.core.digests import UnhashableName, path_digest

    names = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=12).filter(lambda n: n not in (".", ".."))

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(names, st.binary(max_size=64), max_size=8))
    def one(files: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for n, data in files.items():
                try:
                    (Path(tmp) / n).write_bytes(data)
                except OSError:
                    return  # a name this file system refuses
            try:
                first = path_digest(tmp)
            except UnhashableName:  # spec 6.3: a line feed in a name would let one tree pose as another
                assert any("\n" in n for n in files), "only a name with a line feed is refused (the names are UTF-8)"
                return
            assert first == path_digest(tmp), "a tree digest must not depend on anything but the files"

    _until(seconds, one)


def target_planning(seconds: float) -> None:
    from hypothesis import HealthCheck, given, settings

    from manifest.core.problems import ManifestError
    from manifest.document.writer import dumps_yaml
    from manifest.tracking.importing.prepare import prepare

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_mutated_example())
    def one(doc: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            m = Path(tmp) / "m.yaml"
            try:
                m.write_text(dumps_yaml(doc))
            except (TypeError, ValueError):
                return  # not a JSON value the writer takes
            try:
                prepare(m).cleanup()
            except ManifestError:
                pass

    _until(seconds, one)


def _mutated_example() -> Any:
    """The reference example with one member replaced by an arbitrary JSON value, or removed."""
    from hypothesis import strategies as st

    from manifest.document.reader import load_path

    base = load_path(ROOT / "examples" / "iris" / "manifest.yaml").data

    def mutate(path: tuple[Any, ...], value: Any, how: str) -> Any:
        doc = copy.deepcopy(base)
        _mutate(doc, path, value, how)
        return doc

    return st.builds(mutate, st.sampled_from(_paths(base)), _json_values(), st.sampled_from(["set", "delete"]))


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], value: Any, how: str) -> None:
    node = doc
    for k in path[:-1]:
        node = node[k]
    if how == "delete" and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def _until(seconds: float, one: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        one()
        rounds += 1
    print(f"  {rounds} rounds", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 600)), help="total time, shared by the targets")
    ap.add_argument("--target", choices=TARGETS, help="run one target only")
    ap.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        globals()[f"target_{args.child.replace('-', '_')}"](args.seconds)
        return 0
    targets = [args.target] if args.target else list(TARGETS)
    share = args.seconds / len(targets)
    failed = []
    for t in targets:
        print(f"fuzz {t}: {share:.0f} s", flush=True)
        started = time.monotonic()
        r = subprocess.run([sys.executable, __file__, "--child", t, "--seconds", str(share)], cwd=ROOT)
        took = time.monotonic() - started
        if r.returncode != 0:
            what = f"killed by signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
            print(f"fuzz {t}: FAILED ({what}) after {took:.0f} s; the falsifying example is printed above", flush=True)
            failed.append(t)
        else:
            print(f"fuzz {t}: no failure in {took:.0f} s", flush=True)
    print(f"fuzz: {len(targets) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Facts about the machine the validate part runs on: cores, CPU, versions, the YAML parser in use,
and how many CPU-bound processes really run at once (the parallel capacity)."""

from __future__ import annotations

import multiprocessing
import os
import platform
import statistics
import time
from importlib import metadata
from typing import Any

from .common import BYTECODE_ENV_AS_FOUND, PY, cpu_model, loadavg, loadavg_text, seconds

VERSIONS_OF = ("experiment-manifest", "jsonschema-rs", "jsonschema", "check-jsonschema", "ruamel.yaml", "ruamel.yaml.clib", "click")


def _burn(n: int = 5_000_000) -> int:
    acc = 0
    for i in range(n):
        acc += i * i
    return acc


def _timed_procs(k: int) -> float:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_burn) for _ in range(k)]
    t = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - t


def parallel_capacity(reps: int = 3) -> dict[str, Any]:
    """How many CPU-bound Python processes really run at once: k * t(1) / t(k), k = cores (ideal: k).

    On a shared VM the vCPUs may not all be usable at full speed; this tells how much the
    ``--jobs 0`` figures can gain from several processes on this machine, at this moment.
    """
    k = os.cpu_count() or 1
    one = statistics.median(_timed_procs(1) for _ in range(reps))
    many = statistics.median(_timed_procs(k) for _ in range(reps))
    return {"processes": k, "t1_s": one, "tk_s": many, "effective_parallelism": k * one / many}


def dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _ruamel_c_extension() -> bool:
    """Is ruamel.yaml's C extension loaded?"""
    try:
        from ruamel.yaml import CParser  # noqa: F401

        return True
    except ImportError:
        return False


def _manifest_yaml_parser() -> str:
    """The parser class of the manifest loader (does it use the C extension?)."""
    try:
        from manifest.document.yaml_core import safe_loader

        parser = safe_loader().Parser
        return f"{parser.__module__}.{parser.__name__}"
    except Exception as exc:  # noqa: BLE001
        return f"unknown ({exc})"


def machine_facts(pycache_prefix: str) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": round(_memory_bytes() / 1024**3, 1),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": PY,
        "loadavg_at_start": loadavg(),
        "versions": {d: dist_version(d) for d in VERSIONS_OF},
        "ruamel_c_extension_loaded": _ruamel_c_extension(),
        "manifest_yaml_parser": _manifest_yaml_parser(),
        "bytecode": f"children run with PYTHONPYCACHEPREFIX={pycache_prefix} (PYTHONDONTWRITEBYTECODE as found: {BYTECODE_ENV_AS_FOUND!r}, removed)",
    }


def print_facts(facts: dict[str, Any]) -> None:
    v = facts["versions"]
    print("== Machine")
    print(f"cores: {facts['cores']} (usable by this process: {facts['usable_cores']}); CPU: {facts['cpu_model'] or '?'}; memory: {facts['memory_gib']} GiB")
    print(f"{facts['python']} ({PY}); {facts['platform']}")
    print(f"experiment-manifest {v['experiment-manifest']}; jsonschema-rs {v['jsonschema-rs']}; jsonschema {v['jsonschema']}; check-jsonschema {v['check-jsonschema']}; click {v['click']}")
    print(
        f"ruamel.yaml {v['ruamel.yaml']}; ruamel.yaml.clib {v['ruamel.yaml.clib']}; C extension loaded: {'yes' if facts['ruamel_c_extension_loaded'] else 'NO'}"
        f" (manifest's YAML parser: {facts['manifest_yaml_parser']}; check-jsonschema also loads YAML with ruamel.yaml typ=safe, C parser when present)"
    )
    print(f"bytecode: {facts['bytecode']}")


def print_capacity(facts: dict[str, Any], cap: dict[str, Any]) -> None:
    print(f"load average at start: {loadavg_text(facts['loadavg_at_start'])}   MLFLOW_DISABLE_TELEMETRY=true")
    print(
        f"parallel capacity: {cap['processes']} CPU-bound Python processes at once run {cap['effective_parallelism']:.2f}x as fast as one "
        f"(ideal {cap['processes']}.00; {seconds(cap['t1_s'])} alone vs {seconds(cap['tk_s'])} for {cap['processes']}) - bounds what --jobs 0 can gain here"
    )
    print()

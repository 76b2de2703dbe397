"""What the machine and interpreter are: Python, platform, installed packages, hardware."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

from ..core.names import normalize_name


def python_info() -> dict[str, Any]:
    return {"version": platform.python_version(), "implementation": platform.python_implementation(), "executable": sys.executable}


def _os_version() -> str | None:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"') or None
    except OSError:
        pass
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]}"
    return platform.version() or None


def platform_info() -> dict[str, Any]:
    libc = " ".join(x for x in platform.libc_ver() if x)
    out = {"os": platform.system(), "os_release": platform.release(), "os_version": _os_version(), "architecture": platform.machine(), "libc": libc}
    return {k: v for k, v in out.items() if v}


def packages() -> dict[str, str]:
    """Every installed distribution with its exact version, sorted by normalised name."""
    out: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata.get("Name") if dist.metadata else None
        if name and dist.version:
            out.setdefault(normalize_name(name), dist.version)
    return dict(sorted(out.items()))


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Hardware", "cpu model")):
                return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None
    return platform.processor() or None


def _physical_cores() -> int | None:
    try:
        import psutil  # lazy: optional dependency

        n = psutil.cpu_count(logical=False)
        return int(n) if n else None
    except ImportError:
        pass
    try:
        pairs = set()
        phys = core = None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("physical id"):
                phys = line.split(":", 1)[1].strip()
            elif line.startswith("core id"):
                core = line.split(":", 1)[1].strip()
            elif not line.strip() and core is not None:
                pairs.add((phys, core))
                phys = core = None
        return len(pairs) or None
    except OSError:
        return None


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def accelerators(timeout: float = 10.0) -> list[dict[str, Any]]:
    """NVIDIA GPUs through ``nvidia-smi`` when it is present; an empty list when there are none."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        q = subprocess.run([smi, "--query-gpu=name,memory.total,driver_version,compute_cap", "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=timeout)
        head = subprocess.run([smi], capture_output=True, text=True, timeout=timeout).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    if q.returncode != 0:
        return []
    m = re.search(r"CUDA Version:\s*([0-9.]+)", head)
    cuda = m.group(1) if m else None
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for line in q.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3:
            continue
        name, mem, driver = parts[0], parts[1], parts[2]
        cap = parts[3] if len(parts) > 3 else ""
        key = (name, mem, driver, cap)
        if key in groups:
            groups[key]["count"] += 1
            continue
        acc: dict[str, Any] = {"kind": "gpu", "vendor": "NVIDIA", "model": name, "count": 1, "driver_version": driver}
        if mem.isascii() and mem.isdigit():
            acc["memory_bytes"] = int(mem) * 1024 * 1024
        if cuda:
            acc["cuda_version"] = cuda
        if cap and cap != "[N/A]":
            acc["compute_capability"] = cap
        groups[key] = acc
    return list(groups.values())


def hardware() -> dict[str, Any]:
    cpu = {"model": _cpu_model(), "logical_cores": os.cpu_count(), "physical_cores": _physical_cores()}
    out: dict[str, Any] = {"cpu": {k: v for k, v in cpu.items() if v}, "accelerators": accelerators()}
    mem = _memory_bytes()
    if mem:
        out["memory_bytes"] = mem
    return out

"""``--archive``: the bundle as one ``.zip`` to deposit, a pure function of the bundle directory.

Same directory, same bytes: entries sorted by path, every time stamp ``SOURCE_DATE_EPOCH`` (else
1980-01-01, zip's floor), modes 0644 (0755 for executables), no extra fields, one compression
level. The files sit at the zip's root, so the unzipped directory *is* the RO-Crate. The tool's
wheel (:mod:`.toolwheel`) is written the same way.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path
from typing import Iterable

from ..core.digests import tree_files
from ..core.times import source_date_epoch


def write_entries(out: Path, entries: Iterable[tuple[str, bytes, int]]) -> None:
    """A deterministic zip of ``(name, bytes, mode)`` in the order given; ``out`` appears only when
    complete."""
    stamp = time.gmtime(source_date_epoch())[:6]
    tmp = out.with_name(f".{out.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for name, data, mode in entries:
                info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so the mode below is read
                info.external_attr = (0o100000 | mode) << 16
                zf.writestr(info, data, compresslevel=9)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_zip(root: Path, out: Path) -> None:
    """Write ``out`` from every file below ``root``, sorted by path."""
    write_entries(out, ((rel, path.read_bytes(), 0o755 if os.stat(path).st_mode & 0o111 else 0o644) for rel, path in sorted(tree_files(root))))

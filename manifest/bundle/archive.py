"""``--archive``: the bundle as one ``.zip`` to deposit, a pure function of the bundle directory.

Same directory, same bytes: entries sorted by path, every time stamp ``SOURCE_DATE_EPOCH`` (else
1980-01-01, zip's floor), modes 0644 (0755 for executables), no extra fields, one compression
level. The files sit at the zip's root, so the unzipped directory *is* the RO-Crate.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

from ..core.digests import tree_files
from ..core.times import source_date_epoch


def write_zip(root: Path, out: Path) -> None:
    """Write ``out`` from every file below ``root``; ``out`` appears only when complete."""
    stamp = time.gmtime(source_date_epoch())[:6]
    tmp = out.with_name(f".{out.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for rel, path in sorted(tree_files(root)):
                info = zipfile.ZipInfo(rel, date_time=stamp)  # type: ignore[arg-type]
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so the mode below is read
                mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
                info.external_attr = (0o100000 | mode) << 16
                zf.writestr(info, path.read_bytes(), compresslevel=9)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

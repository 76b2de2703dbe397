"""Manifest timestamps (``YYYY-MM-DDTHH:MM:SS.sssZ``) and epoch milliseconds, converted exactly."""

from __future__ import annotations

import calendar
import os
import time

#: The reproducible-builds convention: when set, the time every file the tool writes records
#: (https://reproducible-builds.org/specs/source-date-epoch/). 1980-01-01, zip's floor, otherwise
#: for archive entries.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
ZIP_FLOOR = 315532800


def ms_to_timestamp(ms: int) -> str:
    """Epoch milliseconds -> ``YYYY-MM-DDTHH:MM:SS.sssZ`` (exact, no float arithmetic)."""
    sec, milli = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{milli:03d}Z"


def ts_to_ms(ts: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` -> epoch milliseconds, exactly."""
    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(ts[20:23])


#: The last second a zip entry can record (2107-12-31T23:59:58): later epochs are held to it.
ZIP_CEILING = 4354819198


def _epoch() -> int | None:
    raw = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    return min(int(raw), ZIP_CEILING) if raw.isdigit() else None


def now_timestamp() -> str:
    """The current time as a manifest timestamp; ``SOURCE_DATE_EPOCH`` when it is set."""
    fixed = _epoch()
    return ms_to_timestamp(fixed * 1000 if fixed is not None else int(time.time() * 1000))


def source_date_epoch() -> int:
    """The time stamp of archive entries: ``SOURCE_DATE_EPOCH``, else 1980-01-01 (never the clock,
    so the same bundle gives the same bytes)."""
    fixed = _epoch()
    return max(fixed, ZIP_FLOOR) if fixed is not None else ZIP_FLOOR

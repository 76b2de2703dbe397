"""Manifest timestamps (``YYYY-MM-DDTHH:MM:SS.sssZ``) and epoch milliseconds, converted exactly."""

from __future__ import annotations

import calendar
import time


def ms_to_timestamp(ms: int) -> str:
    """Epoch milliseconds -> ``YYYY-MM-DDTHH:MM:SS.sssZ`` (exact, no float arithmetic)."""
    sec, milli = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{milli:03d}Z"


def ts_to_ms(ts: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` -> epoch milliseconds, exactly."""
    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(ts[20:23])


def now_timestamp() -> str:
    """The current time as a manifest timestamp."""
    return ms_to_timestamp(int(time.time() * 1000))

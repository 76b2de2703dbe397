"""The pieces that keep a long history out of memory: the history response parsed as it arrives
(``stream_points``), and a sidecar written a slice at a time (``write_history``). The expected
values come from the standard library's own ``json`` (the whole response parsed at once, the
sidecar dumped at once by ``dumps_history``)."""

from __future__ import annotations

import hashlib
import json
import math
import random
from array import array
from pathlib import Path

import pytest

from manifest.document.writer import HISTORY_SLICE, dumps_history, write_history
from manifest.tracking.histories import MAX_POINT_TEXT, stream_points

_R = random.Random(7)
POINTS = [{"key": 'loss "a]},{"\u00e9\U0001f600', "value": _R.random() * 10 ** _R.randint(-300, 300), "timestamp": 1_700_000_000_000 + i, "step": i // 3} for i in range(2_000)]


def _chunks(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


@pytest.mark.parametrize("body", [
    {"metrics": POINTS, "next_page_token": "tok=="},
    {"metrics": POINTS},
    {"metrics": []},
    {},
    {"next_page_token": "only a token"},
], ids=["points-and-token", "points", "empty-list", "empty", "token-only"])
@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "as-mlflow-prints"])
@pytest.mark.parametrize("size", [1, 3, 64, 4096, 1 << 20])
def test_every_point_arrives_whatever_the_chunk_boundaries(body, indent, size):
    raw = json.dumps(body, indent=indent, ensure_ascii=False).encode("utf-8")  # multi-byte characters split across chunks at size 1 and 3
    got: list[dict] = []
    rest = stream_points(_chunks(raw, size), got.append)
    assert got == body.get("metrics", [])
    assert rest.get("next_page_token") == body.get("next_page_token")


def test_another_layout_is_read_whole_and_keeps_its_points():
    """A proxy that writes the token first: no point may be lost."""
    raw = json.dumps({"next_page_token": "t", "metrics": POINTS[:5]}).encode()
    got: list[dict] = []
    assert stream_points([raw], got.append)["next_page_token"] == "t"
    assert got == POINTS[:5]


@pytest.mark.parametrize("raw", [
    b'{"metrics": [{"key": "a", "value": 1}',  # ends inside the list
    b'{"metrics": [{"key": "a", "value": 1},',
    b'{"metrics": [{"key": ',
    b'[1, 2]',  # not an object
], ids=["no-closing-bracket", "trailing-comma", "inside-a-point", "a-list"])
def test_a_cut_or_wrong_response_is_an_error_not_fewer_points(raw):
    with pytest.raises(ValueError):
        stream_points([raw], lambda p: None)


def test_garbage_inside_the_list_is_refused_without_reading_it_all_again_and_again():
    """Text that cannot be a point, longer than any point can be, fails at once."""
    raw = b'{"metrics": [{"key": "' + b"x" * (MAX_POINT_TEXT + 10) + b"\\q" + b"y" * (4 * MAX_POINT_TEXT)
    calls = []

    def feed():
        for piece in _chunks(raw, 4096):
            calls.append(1)
            yield piece

    with pytest.raises(ValueError):
        stream_points(feed(), lambda p: None)
    assert len(calls) < len(_chunks(raw, 4096))  # it stopped before the end


COLUMNS = {
    "step": [0, 1, 1, 2, 3, -5, 2**62],
    "timestamp": [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_001, 0, 2**62, 5, 6],
    "value": [0.1, math.nan, math.inf, -math.inf, -0.0, 1e-310, 1.7976931348623157e308],
}


@pytest.mark.parametrize("n", [0, 1, 7, HISTORY_SLICE - 1, HISTORY_SLICE, HISTORY_SLICE + 1, 2 * HISTORY_SLICE + 3])
@pytest.mark.parametrize("kind", ["lists", "arrays"])
def test_a_sidecar_written_in_slices_has_the_bytes_of_one_written_at_once(tmp_path: Path, n: int, kind: str):
    cols = {k: [v[i % len(v)] for i in range(n)] for k, v in COLUMNS.items()}
    given = cols if kind == "lists" else {"step": array("q", cols["step"]), "timestamp": array("q", cols["timestamp"]), "value": array("d", cols["value"])}
    size, sha256 = write_history(given, tmp_path / "h.json")
    expected = dumps_history(cols)
    assert (tmp_path / "h.json").read_bytes() == expected
    assert (size, sha256) == (len(expected), hashlib.sha256(expected).hexdigest())

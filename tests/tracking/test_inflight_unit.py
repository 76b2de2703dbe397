"""The limiter of bulk requests: a transient failure halves how many are in flight and is sent again
after a backoff; anything else is raised at once. Failures are real exceptions of the HTTP stack."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from manifest.tracking.store import InFlight


def test_a_timeout_halves_the_limit_and_the_request_is_sent_again():
    calls, log = [], []
    flight = InFlight(4, log=log.append, backoff=0.01)

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise requests.exceptions.ReadTimeout("HTTPConnectionPool(host='127.0.0.1', port=1): Read timed out. (read timeout=2)")
        return "ok"

    assert flight.call(flaky) == "ok"
    assert len(calls) == 3 and flight.limit == 1
    assert [line.split(", with ")[1] for line in log] == ["2 requests in flight (was 4)", "1 request in flight (was 2)"]


def test_after_its_retries_the_timeout_stands():
    flight = InFlight(2, retries=2, backoff=0.01)
    n = []

    def dead() -> None:
        n.append(1)
        raise requests.exceptions.ConnectionError("Max retries exceeded with url: /api/2.0/mlflow/runs/log-batch")

    with pytest.raises(requests.exceptions.ConnectionError):
        flight.call(dead)
    assert len(n) == 3


def test_a_refusal_is_not_sent_again():
    flight = InFlight(2, backoff=0.01)
    n = []

    def refused() -> None:
        n.append(1)
        raise ValueError("INVALID_PARAMETER_VALUE: bad metric")

    with pytest.raises(ValueError):
        flight.call(refused)
    assert n == [1]


def test_no_more_than_the_limit_are_in_flight():
    flight = InFlight(3)
    busy, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.02)
        with lock:
            busy[0] -= 1

    threads = [threading.Thread(target=flight.call, args=(work,)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3


@pytest.mark.parametrize(("text", "code"), [
    ("API request to http://127.0.0.1:60401/api/2.0/mlflow/runs/log-batch failed with exception HTTPConnectionPool(host='127.0.0.1', port=60401): Read timed out. (read timeout=5)", "tracking-timeout"),
    ("HTTPConnectionPool(host='127.0.0.1', port=40301): Max retries exceeded with url: /api/2.0/mlflow/runs/get (Caused by NewConnectionError('refused'))", "tracking-unreachable"),
    ("API request to endpoint /api/2.0/mlflow/runs/get failed with error code 401 != 200. Response body: 'unauthorized'", "tracking-auth"),
    ("API request failed with error code 403 != 200", "tracking-auth"),
])
def test_a_port_number_is_not_an_http_status(text, code):
    """Port 60401 once made a timeout read as "credentials refused" (the text held "401")."""
    from manifest.tracking.store import classify

    exc = requests.exceptions.ReadTimeout(text) if "timed out" in text else requests.exceptions.ConnectionError(text) if "Max retries" in text else RuntimeError(text)
    assert [p.code for p in classify(exc, "http://127.0.0.1").problems] == [code]

"""The HTTP layer's guarantees: refusals, body kinds, Retry-After, rate limiting, caching."""

from __future__ import annotations

import email.utils
import threading
import time

import pytest

from scanner.verify import VerifyOptions
from scanner.verify.base import VerifyError
from scanner.verify.http import HostGate, HttpClient, Memo, _retry_after
from tests.verify.fakes import Reply, closed_port


@pytest.fixture
def http():
    with HttpClient(VerifyOptions(timeout=2, per_host_rate=0)) as client:
        yield client


@pytest.mark.parametrize(
    "url", ["http://idp.example.com/token", "ftp://127.0.0.1/x", "https://user:pw@idp.example.com/"]
)
def test_refuses_without_sending(http, url):
    answer = http.post(url, data={"a": "b"})
    assert answer.failure and answer.failure.startswith("refused to send")
    assert sum(http.sent.values()) == 0


@pytest.mark.parametrize(
    ("reply", "kind", "describe"),
    [
        (Reply(200, {"access_token": "t"}), "json", "200"),
        (Reply(401, {"error": "invalid_client"}), "json", "401 invalid_client"),
        (Reply(400, {"error": "has spaces in it"}), "json", "400"),
        (Reply(200, "<!doctype html><title>x</title>"), "html", "200 HTML page"),
        (Reply(400, "plain words"), "other", "400 non-JSON answer (text/plain)"),
        (Reply(204, b""), "empty", "204"),
        (Reply(200, b"{broken json"), "other", "200 non-JSON answer (application/octet-stream)"),
    ],
)
def test_answers(http, fake_server, reply, kind, describe):
    answer = http.get(fake_server(reply).url + "/x")
    assert answer.kind == kind
    assert answer.describe() == describe


def test_redirects_are_not_followed(http, fake_server, listener):
    server = fake_server(Reply(307, b"", headers={"Location": listener.url}))
    answer = http.post(server.url + "/token", data={"a": "b"})
    assert answer.status == 307
    assert not listener.contacted


def test_connection_refused(http):
    answer = http.get(f"http://127.0.0.1:{closed_port()}/x")
    assert answer.failure == "connection refused"


def test_a_dripping_answer_is_cut_at_the_deadline(fake_server):

    server = fake_server(Reply(200, {"access_token": "t"}, delay=1.5))
    with HttpClient(VerifyOptions(timeout=0.3, per_host_rate=0)) as client:
        started = time.monotonic()
        answer = client.get(server.url + "/x")
    assert answer.failure == "timed out after 0.3s"
    assert time.monotonic() - started < 1.2


def test_retry_after_forms():
    assert _retry_after("7") == 7.0
    assert _retry_after("999999") == 3600.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 31


def test_host_gate_spaces_requests_per_host():
    gate = HostGate(rate=20)
    started = time.monotonic()
    for _ in range(5):
        gate.wait("a")
    assert time.monotonic() - started >= 0.18  # slots 0, 0.05 ... 0.2 s
    before = time.monotonic()
    gate.wait("b")  # another host is not held back by the first
    assert time.monotonic() - before < 0.04
    gate.defer("b", 0.3)
    before = time.monotonic()
    gate.wait("b")
    assert time.monotonic() - before >= 0.25


def test_memo_computes_each_key_once_across_threads():
    memo: Memo[str, int] = Memo()
    calls = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    threads = [threading.Thread(target=memo.get, args=("k", compute)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert memo.get("k", compute) == 42 and len(calls) == 1 and len(memo) == 1


def test_options_are_validated():
    with pytest.raises(VerifyError):
        VerifyOptions(timeout=0)
    with pytest.raises(VerifyError):
        VerifyOptions(concurrency=0)
    with pytest.raises(VerifyError):
        VerifyOptions(per_host_rate=-1)

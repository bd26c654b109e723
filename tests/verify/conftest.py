"""Fixtures for verification tests: loopback fakes that stop after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.verify.fakes import FakeServer, Handler, Listener, Reply, oauth_server


@pytest.fixture
def fake_server() -> Iterator[Callable[[Handler | Reply], FakeServer]]:
    started: list[FakeServer] = []

    def start(handler: Handler | Reply) -> FakeServer:
        server = FakeServer(handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fake_issuer() -> Iterator[Callable[[Handler | Reply], FakeServer]]:
    started: list[FakeServer] = []

    def start(token: Handler | Reply) -> FakeServer:
        server = oauth_server(token)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = Listener()
    yield sock
    sock.close()

"""Fixtures for verification tests: loopback fakes that stop after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.verify.fakes import FakeServer, Handler, Listener, Reply, oauth_server

Starter = Callable[[Handler | Reply], FakeServer]


@pytest.fixture
def fake_server() -> Iterator[Starter]:
    """``fake_server(handler_or_reply)``: an HTTP server answering every request."""
    yield from _stopped_after(FakeServer)


@pytest.fixture
def fake_issuer() -> Iterator[Starter]:
    """``fake_issuer(token_handler_or_reply)``: discovery plus a scripted /token."""
    yield from _stopped_after(oauth_server)


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = Listener()
    yield sock
    sock.close()


def _stopped_after(make: Starter) -> Iterator[Starter]:
    started: list[FakeServer] = []

    def start(handler: Handler | Reply) -> FakeServer:
        started.append(make(handler))
        return started[-1]

    yield start
    for server in started:
        server.stop()

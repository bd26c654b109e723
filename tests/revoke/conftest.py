"""Helpers for revocation tests: live findings, registries, runs through the library, and the
loopback provider fakes (stopped after each test)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

from scanner.models import Finding, Verdict
from scanner.registry import Registry, parse_registry
from scanner.revoke import ActionOutcome, RevokeOptions, revoke_findings
from tests.support.fake_providers import Fake
from tests.verify.fakes import finding as make_finding

F = TypeVar("F", bound=Fake)


def live(found: Finding, client_id: str | None = None) -> Finding:
    """The finding as verification leaves a live one."""
    return found.with_verdict(
        Verdict("live", "test: token issued", client_id=client_id or found.client_id)
    )


def live_secret(secret: str, client_id: str, **kwargs: Any) -> Finding:
    return live(make_finding(secret, client_id=client_id, **kwargs))


def registry(clients: list[dict[str, Any]], issuers: Mapping[str, str] | None = None) -> Registry:
    data = {
        "issuer": [{"name": n, "issuer": u} for n, u in (issuers or {}).items()],
        "client": clients,
    }
    return parse_registry(data, "test registry")


def audit_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Runner:
    """Runs revocations through the library with one audit log and environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.audit = tmp_path / "audit.jsonl"
        self.environ: dict[str, str] = {}
        self.endpoints: dict[str, str] = {}
        self.timeout = 5.0

    def __call__(
        self, findings: list[Finding], reg: Registry, *, act: bool = True
    ) -> list[ActionOutcome]:
        options = RevokeOptions(
            timeout=self.timeout, endpoints=self.endpoints, environ=self.environ, reread=False
        )
        return revoke_findings(findings, reg, self.audit, options, act=act)

    def lines(self) -> list[dict[str, Any]]:
        return audit_lines(self.audit)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return Runner(tmp_path)


@pytest.fixture
def fakes() -> Iterator[Callable[[F], F]]:
    """``fakes(FakeX(...))`` registers a fake to stop after the test."""
    started: list[Fake] = []

    def keep(fake: F) -> F:
        started.append(fake)
        return fake

    yield keep
    for fake in started:
        fake.stop()

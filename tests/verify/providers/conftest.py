"""Provider plugins against loopback fakes that replay each provider's documented answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from scanner.models import Finding
from scanner.registry import Registry
from scanner.verify import VerifyOptions, verify_findings

OPTIONS = VerifyOptions(timeout=2, per_host_rate=0)


@pytest.fixture
def check() -> Callable[..., Finding]:
    """check(finding, endpoints={...}) -> the finding with its verdict (no registry)."""

    def run(found: Finding, endpoints: dict[str, str], registry: Registry | None = None) -> Finding:
        return verify_findings([found], registry, replace(OPTIONS, endpoints=endpoints))[0]

    return run

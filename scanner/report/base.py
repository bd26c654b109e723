"""Options shared by every reporter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportOptions:
    show_secrets: bool = False
    color: bool = False
    """Text reporter only: ANSI colours (the CLI decides: a TTY and no NO_COLOR)."""
    rules: Mapping[str, Any] = field(default_factory=dict)
    """Rule metadata by id (SARIF rule descriptors); built-in rules are used when empty."""

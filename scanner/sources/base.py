"""What every source provides: blobs to scan, plus the problems it met on the way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from scanner.errors import SourceError
from scanner.models import Blob, Skipped

__all__ = ["Blob", "Problems", "Source", "SourceError"]


@dataclass
class Problems:
    """Warnings and skipped items a source collects while it keeps going."""

    errors: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def skip(self, location: str, reason: str) -> None:
        self.skipped.append(Skipped(location=location, reason=reason))


class Source(Protocol):
    """A producer of blobs. Raises SourceError only when nothing at all can be read."""

    def blobs(self, problems: Problems) -> Iterator[Blob]: ...

"""Keyword prefilter: which rules can possibly match a blob.

Every rule names lower-case literal keywords; its regex runs only on blobs where one occurs.
Hyperscan matches all keywords in one pass; without it (no wheel for the platform) a
lower-cased copy of the blob is searched once per keyword, which is still memchr-fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:  # a native multi-literal matcher where a wheel exists
    import hyperscan as _hyperscan
except ImportError:  # pragma: no cover - exercised on platforms without the wheel
    _hyperscan = None  # type: ignore[assignment]


class Prefilter:
    """Finds which of a fixed list of keywords occur in a blob (case-insensitively)."""

    def __init__(self, keywords: Sequence[str], *, native: bool = True) -> None:
        self.keywords = tuple(keywords)
        self.encoded = tuple(k.encode() for k in self.keywords)
        self._db: Any = None
        if native and _hyperscan is not None and self.keywords:
            self._db = _compile(self.encoded)

    @property
    def native(self) -> bool:
        return self._db is not None

    def matches(self, data: bytes) -> set[int]:
        """Indices of the keywords that occur in ``data``."""
        if not data or not self.keywords:
            return set()
        if self._db is not None:
            found: set[int] = set()

            def on_match(kid: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
                found.add(kid)

            self._db.scan(data, match_event_handler=on_match)
            return found
        lowered = data.lower()
        return {i for i, kw in enumerate(self.encoded) if kw in lowered}


def _compile(keywords: Sequence[bytes]) -> Any:
    assert _hyperscan is not None
    db = _hyperscan.Database(mode=_hyperscan.HS_MODE_BLOCK)
    flags = _hyperscan.HS_FLAG_CASELESS | _hyperscan.HS_FLAG_SINGLEMATCH
    db.compile(
        expressions=[_escape(k) for k in keywords],
        ids=list(range(len(keywords))),
        elements=len(keywords),
        flags=[flags] * len(keywords),
    )
    return db


def _escape(literal: bytes) -> bytes:
    """Hyperscan takes PCRE syntax: escape every non-alphanumeric byte as \\xHH."""
    return b"".join(bytes([b]) if chr(b).isalnum() else b"\\x%02x" % b for b in literal)

"""Keyword prefilter: which rules can possibly match a blob.

Every rule names lower-case literal keywords; its regex runs only on blobs where one occurs.
Hyperscan matches all keywords in one pass; without it (no wheel for the platform) a
lower-cased copy of the blob is searched once per keyword, which is still memchr-fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanner import cache

try:  # a native multi-literal matcher where a wheel exists
    import hyperscan as _hyperscan
except ImportError:  # pragma: no cover - exercised on platforms without the wheel
    _hyperscan = None  # type: ignore[assignment]


# Past this many occurrences of one keyword in one blob, its rules search the whole blob.
MAX_HITS = 4096


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
        return set(self.hits(data))

    def hits(self, data: bytes) -> dict[int, list[int] | None]:
        """Where each keyword occurs: keyword index -> end offsets, or None when it occurs
        more than MAX_HITS times (then the whole blob is searched)."""
        if not data or not self.keywords:
            return {}
        found: dict[int, list[int] | None] = {}
        if self._db is not None:

            def on_match(kid: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
                offsets = found.setdefault(kid, [])
                if offsets is not None:
                    if len(offsets) >= MAX_HITS:
                        found[kid] = None
                    else:
                        offsets.append(end)

            self._db.scan(data, match_event_handler=on_match)
            return found
        lowered = data.lower()
        for kid, kw in enumerate(self.encoded):
            at = lowered.find(kw)
            if at < 0:
                continue
            offsets: list[int] = []
            while at >= 0 and len(offsets) < MAX_HITS:
                offsets.append(at + len(kw))
                at = lowered.find(kw, at + 1)
            found[kid] = offsets if at < 0 else None
        return found


def _compile(keywords: Sequence[bytes]) -> Any:
    """The hyperscan database for ``keywords``, from the disk cache when an earlier run
    built it (compiling costs ~10 ms per process, loading ~0.1 ms)."""
    assert _hyperscan is not None
    name = cache.key([str(getattr(_hyperscan, "__version__", "")).encode(), *keywords])
    stored = cache.read("prefilter", name)
    if stored is not None:
        try:
            db = _hyperscan.loadb(stored, _hyperscan.HS_MODE_BLOCK)
            db.scratch = _hyperscan.Scratch(db)  # a loaded database comes without one
        except _hyperscan.error:  # damaged or from another platform: build it again
            pass
        else:
            return db
    db = _build(keywords)
    cache.write("prefilter", name, _hyperscan.dumpb(db))
    return db


def _build(keywords: Sequence[bytes]) -> Any:
    assert _hyperscan is not None
    db = _hyperscan.Database(mode=_hyperscan.HS_MODE_BLOCK)
    flags = _hyperscan.HS_FLAG_CASELESS
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

"""What every container reader (zip, tar, compressed streams, source maps) yields: members with
a name and a way to read their bytes in bounded chunks. Readers work on bytes in memory, never
touch the filesystem and never follow a link: a member name is only ever a string."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

CHUNK = 1 << 20
"""Largest piece of decompressed output produced at once, so no read can balloon."""

MemberKind = Literal["file", "dir", "symlink", "hardlink", "device", "other"]


class ArchiveError(Exception):
    """A container is corrupt or truncated. The message says what went wrong, never content."""


class LimitHit(Exception):
    """A stream ran into a limit (expanded bytes, compression ratio, time) while decompressing."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit


@dataclass(frozen=True)
class Member:
    """One entry of a container, by name; its bytes are read only if the walker asks."""

    name: str
    """Display name (control characters and ``!`` escaped); only ever a string."""
    kind: MemberKind = "file"
    size: int | None = None
    """Declared uncompressed size, when the format states one (never trusted)."""
    compressed: int | None = None
    """Bytes of compressed input behind this member, for the compression-ratio check."""
    chunks: Callable[[], Iterator[bytes]] | None = None
    problem: str | None = None
    """Why the member cannot be read (encrypted, unsupported method, overlapping data...)."""
    metered: bool = False
    """Its bytes come from a stream that already charges them against the budget."""


def display_name(name: str) -> str:
    """A member name safe to print and to join into a chain: control characters, invalid
    UTF-8 (surrogate escapes) and the chain separator ``!`` become ``\\xNN``."""
    if name.isprintable() and "!" not in name:
        return name or "<unnamed>"
    out = []
    for ch in name:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or ch == "!":
            out.append(f"\\x{code:02x}")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out) or "<unnamed>"


def slices(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Stored (uncompressed) data in CHUNK pieces."""
    view = memoryview(data)
    stop = len(view) if end is None else min(end, len(view))
    for i in range(start, stop, CHUNK):
        yield bytes(view[i : min(i + CHUNK, stop)])

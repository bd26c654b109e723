"""Single-stream compression (gzip, bzip2, xz/lzma, raw deflate) decoded in bounded chunks.

Every decoder is asked for at most CHUNK bytes of output at a time, so a stream that claims
nothing and expands to gigabytes is stopped by the caller after the first chunk over its
budget. Truncated or corrupt input yields what it decoded, then raises ArchiveError.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import Protocol

from scanner.sources.containers import CHUNK, ArchiveError

FEED = 64 << 10
HEAD_FEED = 1 << 20
"""Input enough for the first bzip2 block (at most 900 kB)."""
XZ_MEMLIMIT = 256 << 20
"""liblzma allocates the dictionary a stream asks for; a hostile header must not get 1.5 GiB."""

SUFFIXES = {
    "gzip": ((".tgz", ".tar"), (".gz", ""), (".gzip", "")),
    "bzip2": ((".tbz2", ".tar"), (".tbz", ".tar"), (".bz2", "")),
    "xz": ((".txz", ".tar"), (".xz", ""), (".lzma", "")),
}


class Decoder(Protocol):
    """What zlib, bz2 and lzma decompressor objects have in common."""

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, /, max_length: int = ...) -> bytes: ...


def decoded(
    fmt: str,
    data: bytes | memoryview,
    *,
    multi: bool = True,
    decoder: Callable[[], Decoder] | None = None,
) -> Iterator[bytes]:
    """The decompressed bytes of a gzip / bzip2 / xz stream (``raw-deflate`` for zip members,
    or any ``decoder``), concatenated streams included when ``multi``."""
    make = decoder or _DECODERS.get(fmt)
    if make is None:
        raise ArchiveError(f"unknown compression {fmt!r}")
    view = memoryview(data)
    pos = 0
    first = True
    while first or (multi and pos < len(view)):
        if not first and not any(view[pos:]):
            return  # zero padding after the last stream (some tar writers add it)
        if not first and not _starts_stream(fmt, view[pos : pos + 6]):
            raise ArchiveError(f"{len(view) - pos} bytes of trailing data after the {fmt} stream")
        try:
            stream = make()
        except (lzma.LZMAError, ValueError) as exc:
            raise ArchiveError(f"cannot start {fmt} decoder: {exc}") from None
        pos = yield from _one_stream(stream, view, pos, fmt)
        first = False


def head(fmt: str, data: bytes, size: int = 512) -> bytes:
    """The first ``size`` decompressed bytes (fewer if the stream is shorter or damaged), to
    see what a stream holds before committing to it."""
    make = _DECODERS.get(fmt)
    if make is None:
        return b""
    try:
        return make().decompress(data[:HEAD_FEED], size)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return b""


def inner_name(name: str, fmt: str) -> str:
    """The name of what a compressed file holds: ``app.tgz`` → ``app.tar``, ``x.gz`` → ``x``."""
    base = name.rsplit("/", 1)[-1]
    lower = base.lower()
    for suffix, replacement in SUFFIXES.get(fmt, ()):
        if lower.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)] + replacement
    return f"<{fmt} content>"


class ChunkReader(io.RawIOBase):
    """A read-only file over a chunk iterator, for readers that want a file (tarfile)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _one_stream(
    decoder: Decoder, view: memoryview, pos: int, fmt: str
) -> Generator[bytes, None, int]:
    """Decode one stream starting at ``pos``; returns the position just after it."""
    fed = pos
    zlib_style = isinstance(decoder, _ZLIB_TYPE)
    while True:
        try:
            if zlib_style:
                tail = decoder.unconsumed_tail  # type: ignore[attr-defined]
                if tail:
                    piece: bytes | memoryview = tail
                elif fed < len(view):
                    piece = view[fed : fed + FEED]
                    fed += len(piece)
                else:
                    piece = b""
            elif decoder.needs_input:  # type: ignore[attr-defined]
                if fed >= len(view):
                    raise ArchiveError(f"{fmt} stream ends early (truncated)")
                piece = view[fed : fed + FEED]
                fed += len(piece)
            else:
                piece = b""
            out = decoder.decompress(piece, CHUNK)  # type: ignore[arg-type]
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
            raise ArchiveError(f"corrupt {fmt} data: {exc}") from None
        if out:
            yield out
        if decoder.eof:
            return fed - len(decoder.unused_data)
        if not out and not piece:
            raise ArchiveError(f"{fmt} stream ends early (truncated)")


def _starts_stream(fmt: str, head: memoryview) -> bool:
    magic = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}.get(fmt, b"")
    return bytes(head).startswith(magic) if magic else True


_ZLIB_TYPE = type(zlib.decompressobj())
_DECODERS: dict[str, Callable[[], Decoder]] = {
    "gzip": lambda: zlib.decompressobj(zlib.MAX_WBITS | 16),
    "raw-deflate": lambda: zlib.decompressobj(-zlib.MAX_WBITS),
    "bzip2": bz2.BZ2Decompressor,
    "xz": lambda: lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=XZ_MEMLIMIT),
}

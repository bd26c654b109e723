"""The zip family (zip, jar, war, ear, aar, apk, ipa, whl, nupkg, vsix) read from memory.

A small reader of its own rather than ``zipfile``: it stops building entries at the member
limit (a central directory can list millions), refuses members whose data overlaps another's
(how modern zip bombs multiply one compressed kernel), never trusts a declared size, reads
members in bounded chunks, and falls back to the local headers when the central directory is
missing (a truncated download), so whatever is readable is still scanned.
"""

from __future__ import annotations

import bisect
import lzma
import stat
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from scanner.sources import compressed
from scanner.sources.containers import ArchiveError, Member, MemberKind, display_name, slices

LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
END, END64, END64_LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"
_END_REACH = 22 + 0xFFFF
_CENTRAL_FIELDS = struct.Struct("<HHHHHHIIIHHHHHII")
_LOCAL_FIELDS = struct.Struct("<HHHHHIIIHH")
STORED, DEFLATED, BZIP2, LZMA, XZ = 0, 8, 12, 14, 95
METHOD_NAMES = {9: "deflate64", 93: "zstd", 98: "PPMd", 97: "WavPack", 96: "JPEG", 99: "AES"}
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_UTF8 = 0x1, 0x8, 0x800


@dataclass(frozen=True)
class _Entry:
    name: str
    flags: int
    method: int
    compressed: int
    size: int
    offset: int
    """Absolute position of the local header (prefix data already accounted for)."""
    mode: int | None
    """Unix file mode, when the archive was made on a Unix-like system."""


def members(data: bytes, warn: Callable[[str], None], limit: int) -> Iterator[Member]:
    """Every entry of a zip, as members; entries past ``limit`` are still named (cheaply, from
    the central directory) so the caller can list what it skips."""
    directory = _find_directory(data)
    entries = _central_entries(data, *directory) if directory else iter(())
    try:
        head = list(islice(entries, limit)) if directory else None
    except ArchiveError:
        head = None
    if head is None:
        warn(
            "no readable central directory (truncated or damaged zip); members read from "
            "their local headers"
        )
        yield from _local_members(data)
        return
    overlapping = _overlapping(data, head)
    for i, entry in enumerate(head):
        yield _member(data, entry, overlapping=i in overlapping)
    for entry in entries:
        yield _member(data, entry, overlapping=False)


def _find_directory(data: bytes) -> tuple[int, int, int] | None:
    """(central directory start, end, prefix length) from the end record, or None."""
    pos = data.rfind(END, max(0, len(data) - _END_REACH))
    if pos < 0 or pos + 22 > len(data):
        return None
    total, cd_size, cd_offset = struct.unpack_from("<HII", data, pos + 10)
    anchor = pos
    zip64 = total == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset)
    if zip64 and pos >= 20 and data[pos - 20 : pos - 16] == END64_LOCATOR:
        (record,) = struct.unpack_from("<Q", data, pos - 12)
        for at in (pos - 20 - 56, record):  # just before the locator, or where it points
            if at >= 0 and data[at : at + 4] == END64 and at + 56 <= len(data):
                cd_size, cd_offset = struct.unpack_from("<QQ", data, at + 40)
                anchor = at
                break
    cd_start = anchor - cd_size
    concat = cd_start - cd_offset
    if cd_start < 0 or concat < 0:
        return None
    if cd_size and data[cd_start : cd_start + 4] != CENTRAL:
        return None
    return cd_start, anchor, concat


def _central_entries(data: bytes, start: int, end: int, concat: int) -> Iterator[_Entry]:
    pos = start
    while pos + 46 <= end:
        if data[pos : pos + 4] != CENTRAL:
            raise ArchiveError("corrupt central directory record")
        (
            made_by, _, flags, method, _, _, _, size32c, size32u,
            n, x, c, _, _, external, offset32,
        ) = _CENTRAL_FIELDS.unpack_from(data, pos + 4)  # fmt: skip
        raw_name = data[pos + 46 : pos + 46 + n]
        extra = data[pos + 46 + n : pos + 46 + n + x]
        size, comp, offset = _zip64(extra, size32u, size32c, offset32)
        system = made_by >> 8
        yield _Entry(
            name=_decode_name(raw_name, flags),
            flags=flags,
            method=method,
            compressed=comp,
            size=size,
            offset=offset + concat,
            mode=(external >> 16) if system in (3, 19) else None,
        )
        pos += 46 + n + x + c


def _local_members(data: bytes) -> Iterator[Member]:
    """Recovery: walk the local headers from the front, for zips whose end is missing."""
    pos = data.find(LOCAL)
    while pos >= 0 and pos + 30 <= len(data):
        _, flags, method, _, _, _, comp32, size32, n, x = _LOCAL_FIELDS.unpack_from(data, pos + 4)
        raw_name = data[pos + 30 : pos + 30 + n]
        size, comp, _ = _zip64(data[pos + 30 + n : pos + 30 + n + x], size32, comp32, 0)
        start = pos + 30 + n + x
        sized = not (flags & FLAG_DESCRIPTOR) or comp != 0
        name = _decode_name(raw_name, flags)
        entry = _Entry(name, flags, method, comp if sized else len(data) - start, size, pos, None)
        problem = None
        if not sized and method == STORED:
            problem = "stored member of unknown size in a damaged zip: not read"
        yield _member(data, entry, overlapping=False, problem=problem, size_known=sized)
        pos = data.find(LOCAL, start + comp if sized else start + 1)


def _member(
    data: bytes,
    entry: _Entry,
    *,
    overlapping: bool,
    problem: str | None = None,
    size_known: bool = True,
) -> Member:
    kind = _kind(entry)
    if problem is None and kind == "file":
        problem = _problem(data, entry, overlapping)
    start = _data_start(data, entry.offset) if problem is None and kind == "file" else None
    if kind == "file" and problem is None and start is None:
        problem = "local header missing or corrupt: not read"
    return Member(
        name=display_name(entry.name),
        kind=kind,
        size=entry.size if size_known else None,
        compressed=entry.compressed,
        chunks=_reader(data, start, entry) if start is not None else None,
        problem=problem,
    )


def _reader(data: bytes, start: int, entry: _Entry) -> Callable[[], Iterator[bytes]]:
    return lambda: _decoded(data, start, entry)


def _decoded(data: bytes, start: int, entry: _Entry) -> Iterator[bytes]:
    end = start + entry.compressed
    view = memoryview(data)[start : min(end, len(data))]
    if entry.method == STORED:
        yield from slices(view)
    elif entry.method == DEFLATED:
        yield from compressed.decoded("raw-deflate", view, multi=False)
    elif entry.method == BZIP2:
        yield from compressed.decoded("bzip2", view, multi=False)
    elif entry.method == XZ:
        yield from compressed.decoded("xz", view, multi=False)
    elif entry.method == LZMA:
        yield from _lzma_stream(view)
    if end > len(data):
        raise ArchiveError("member data truncated (the archive ends early)")


def _lzma_stream(view: memoryview) -> Iterator[bytes]:
    """Zip's LZMA method: a 4-byte version and size header, the LZMA1 properties, then a raw
    LZMA stream."""
    if len(view) < 4:
        raise ArchiveError("truncated LZMA header")
    (props_size,) = struct.unpack_from("<H", view, 2)
    props = bytes(view[4 : 4 + props_size])
    decode_props = lzma._decode_filter_properties  # type: ignore[attr-defined]
    try:
        filters = [decode_props(lzma.FILTER_LZMA1, props)]
    except (lzma.LZMAError, ValueError, TypeError) as exc:
        raise ArchiveError(f"bad LZMA properties: {exc}") from None
    yield from compressed.decoded(
        "lzma",
        view[4 + props_size :],
        multi=False,
        decoder=lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters),
    )


def _problem(data: bytes, entry: _Entry, overlapping: bool) -> str | None:
    if entry.flags & FLAG_ENCRYPTED or entry.method == 99:
        return "encrypted member (password-protected zip): not read"
    if entry.method not in (STORED, DEFLATED, BZIP2, LZMA, XZ):
        name = METHOD_NAMES.get(entry.method, str(entry.method))
        return f"compression method {name} not supported: not read"
    if overlapping:
        return "data overlaps another member (how zip bombs are built): not read"
    if entry.offset >= len(data):
        return "member data missing (the archive ends early)"
    return None


def _overlapping(data: bytes, entries: list[_Entry]) -> set[int]:
    """Indices of entries whose data runs into another entry's local header, or that share a
    local header with an earlier entry."""
    offsets = sorted({e.offset for e in entries})
    seen: set[int] = set()
    found: set[int] = set()
    for i, entry in enumerate(entries):
        if entry.offset in seen:
            found.add(i)
            continue
        seen.add(entry.offset)
        start = _data_start(data, entry.offset)
        if start is None:
            continue
        following = bisect.bisect_right(offsets, entry.offset)
        if following < len(offsets) and start + entry.compressed > offsets[following]:
            found.add(i)
    return found


def _data_start(data: bytes, offset: int) -> int | None:
    if offset < 0 or offset + 30 > len(data) or data[offset : offset + 4] != LOCAL:
        return None
    n, x = struct.unpack_from("<HH", data, offset + 26)
    return int(offset + 30 + n + x)


def _zip64(extra: bytes, size: int, comp: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset with the Zip64 extended-information field applied where the 32-bit
    fields are saturated."""
    if 0xFFFFFFFF not in (size, comp, offset):
        return size, comp, offset
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 0x0001:
            values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if comp == 0xFFFFFFFF and values:
                comp = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + length
    return size, comp, offset


def _kind(entry: _Entry) -> MemberKind:
    if entry.name.endswith("/"):
        return "dir"
    mode = entry.mode
    if mode is None or stat.S_IFMT(mode) == 0:
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & FLAG_UTF8:
        return raw.decode("utf-8", "surrogateescape")
    return raw.decode("cp437")

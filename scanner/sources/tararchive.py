"""Tar archives: plain ones read in place from memory, compressed ones (tar.gz, tar.bz2,
tar.xz, npm packages, image layers) from a decompressing stream, member by member. Links,
devices and FIFOs are names only; nothing is ever extracted."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator

from scanner.sources.compressed import ChunkReader
from scanner.sources.containers import ArchiveError, Member, MemberKind, display_name, slices


def members_in_memory(data: bytes, warn: Callable[[str], None]) -> Iterator[Member]:
    """Members of an uncompressed tar held in memory: data is sliced out, not copied twice."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise ArchiveError(f"not a readable tar archive: {exc}") from None
    for info in _infos(archive):
        yield _member(info, _in_place(data, archive, info))
    if any(memoryview(data)[archive.offset :]):
        warn(
            f"unreadable data after byte {archive.offset} (damaged or truncated tar); "
            "members before it were read"
        )


def members_streamed(chunks: Iterator[bytes]) -> Iterator[Member]:
    """Members of a tar arriving as decompressed chunks; each member's data must be read
    before asking for the next."""
    try:
        archive = tarfile.open(fileobj=ChunkReader(chunks), mode="r|")  # noqa: SIM115
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise ArchiveError(f"not a readable tar stream: {exc}") from None
    for info in _infos(archive):
        yield _member(info, _streamed(archive, info), metered=True)


def _infos(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while True:
        try:
            info = archive.next()
        except (tarfile.TarError, EOFError, ValueError, OSError) as exc:
            raise ArchiveError(f"damaged tar ({exc}); members before it were read") from None
        if info is None:
            return
        archive.members.clear()  # type: ignore[attr-defined]  # every header kept; not needed
        yield info


def _member(
    info: tarfile.TarInfo, chunks: Callable[[], Iterator[bytes]], *, metered: bool = False
) -> Member:
    kind = _kind(info)
    return Member(
        name=display_name(info.name),
        kind=kind,
        size=info.size if kind == "file" else None,
        chunks=chunks if kind == "file" else None,
        metered=metered,
    )


def _in_place(
    data: bytes, archive: tarfile.TarFile, info: tarfile.TarInfo
) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        if info.sparse:  # holes to fill in: let tarfile assemble it
            yield from _pieces(archive, info)
            return
        end = info.offset_data + info.size
        yield from slices(data, info.offset_data, end)
        if end > len(data):
            raise ArchiveError("member data truncated (the archive ends early)")

    return read


def _streamed(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Callable[[], Iterator[bytes]]:
    return lambda: _pieces(archive, info)


def _pieces(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Iterator[bytes]:
    handle = archive.extractfile(info)
    if handle is None:
        return
    try:
        while piece := handle.read(1 << 20):
            yield piece
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"member data unreadable ({exc})") from None


def _kind(info: tarfile.TarInfo) -> MemberKind:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.ischr() or info.isblk():
        return "device"
    return "other"

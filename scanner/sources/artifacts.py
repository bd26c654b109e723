"""Artifacts: archives, packages, container images and keystores, opened wherever a blob shows
up (a file of a directory, a git object, a path on the command line), in memory only.

``expand`` is the pipeline's Expander. For each blob it yields what the engine should read:

- plain text: the blob itself;
- binary content: the blob itself (ASCII and UTF-8 strings match in place; their line and
  column are grep's, counting 0x0A bytes) and, when there are any, its UTF-16 text runs as a
  view with the same path whose note says that lines there count extracted runs;
- a UTF-16 document with a byte-order mark: its text re-encoded as UTF-8, lines intact;
- a keystore (PKCS#12, JKS, JCEKS): one key card per private key (see ``keystores``);
- a container (zip family, tar family, gzip/bzip2/xz, ``docker save`` and OCI images, source
  maps): every member, recursively, named by its chain ``outer!inner!member``, with source
  ``archive`` and the outer blob's root, commit and blob id kept so git provenance applies.

Member names are only strings; nothing is written to disk and no link is followed. Limits
(``ArchiveLimits``) apply per top-level artifact: what a limit stops is listed in
``summary.skipped`` with the reason, one warning per limit names the artifact, and the scan
goes on. A damaged container yields what was readable, plus a warning.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from scanner.config import ArchiveLimits
from scanner.models import Blob, Origin, SourceKind
from scanner.sources import (
    compressed,
    formats,
    images,
    keystores,
    sourcemaps,
    strings,
    tararchive,
    ziparchive,
)
from scanner.sources.base import Problems
from scanner.sources.containers import ArchiveError, LimitHit, Member

SKIP_LIST_CAP = 1000
"""Skipped members listed by name per archive; beyond it they are counted in one entry."""
RATIO_FLOOR = 1 << 20
"""Output below this is never a compression-ratio violation (small, very repetitive files)."""
JSON_CAP = 16 << 20
CONTAINERS = frozenset({"zip", "tar", "gzip", "bzip2", "xz", "sourcemap"})
KEYSTORES = frozenset({"pkcs12", "jks", "jceks"})
LAYER_FORMATS = frozenset({"tar", "gzip", "bzip2", "xz", "zstd"})
UTF16_RUNS_NOTE = (
    "UTF-16 text runs extracted from binary content; the line counts extracted runs, "
    "not lines of the file"
)
UTF16_DOCUMENT_NOTE = "UTF-16 text, re-encoded as UTF-8; lines as in the file"


def expand(blob: Blob, limits: ArchiveLimits, problems: Problems) -> Iterator[Blob]:
    """The blob's scannable forms and, recursively, every member of every container in it."""
    walk = _Walk(blob, limits, problems)
    try:
        yield from walk.visit(blob)
    finally:
        walk.finish()


def located(blob: Blob, path: str | None, limits: ArchiveLimits | None = None) -> bytes:
    """What a scan of ``blob`` read at ``path`` (the blob's own path, or a chain inside it):
    the content and its views (key cards, UTF-16 text) joined, so ``leakstop verify`` can
    re-read a redacted finding. Only the containers on the way are opened. Raises
    LookupError when nothing is there any more."""
    walk = _Walk(blob, limits or ArchiveLimits(), Problems(), target=path)
    parts = [found.data for found in walk.visit(blob) if found.origin.path == path]
    if not parts:
        raise LookupError(f"{path}: not found in {_where(blob.origin)}")
    return b"\n".join(parts)


def outer_origin(origin: Origin) -> Origin:
    """Where the outermost blob of an archive member's chain came from: the file or git
    object the scan started with (unchanged for anything that is not an archive member)."""
    if origin.source != "archive":
        return origin
    outer = (origin.path or "").split("!", 1)[0] or None
    source: SourceKind = "git" if origin.commit or origin.blob_id else "file"
    if outer == origin.blob_id:  # a git object known only by its id
        outer = None
    return replace(origin, source=source, path=outer, layer=None, note=None)


@dataclass
class _Layer:
    """The image layer being read: its digest and the whiteouts of the layers above it."""

    digest: str
    whiteouts: images.Whiteouts


@dataclass
class _Progress:
    read: int = 0


class _Walk:
    """One top-level artifact: its budget, its deadline and the limits it has hit."""

    def __init__(
        self, top: Blob, limits: ArchiveLimits, problems: Problems, target: str | None = None
    ) -> None:
        self.top = _where(top.origin)
        self.target = target
        """Re-reading one location: only members on the way to it are read."""
        self.limits = limits
        self.problems = problems
        self.expanded = 0
        self.deadline = time.monotonic() + limits.max_seconds
        self.hits: dict[str, int] = {}  # a plain dict: one is made per blob scanned
        self.stopped: str | None = None
        """``expanded`` or ``time`` once nothing more may be decompressed."""

    def visit(self, blob: Blob, layer: _Layer | None = None) -> Iterator[Blob]:
        where = _where(blob.origin)
        name = formats.last_segment(blob.origin.path)
        fmt = formats.sniff(blob.data, name)
        if fmt is None:
            expected = formats.expected_format(name)
            if expected:
                self.problems.error(
                    f"{where}: named like a {formats.DESCRIPTIONS[expected]} but is not one; "
                    "scanned as plain content"
                )
            yield from self.leaf(blob)
            return
        if fmt in KEYSTORES:
            yield from self.keystore(blob, fmt, where)
            return
        if fmt not in CONTAINERS:
            self.problems.skip(where, f"{formats.DESCRIPTIONS[fmt]}: format not supported")
            yield from self.leaf(blob)
            return
        if blob.depth >= self.limits.max_depth:
            self.skip(where, "depth", "archive not opened")
            yield from self.leaf(blob)
            return
        if self.stopped:
            self.skip(where, self.stopped, "archive not opened")
            yield from self.leaf(blob)
            return
        blob = self.tag_layer(blob, fmt)
        progress = _Progress()
        try:
            if fmt == "tar" and images.might_be_image(blob.data):
                yield from self.image(blob, where, progress)
            else:
                members = self.open(blob, fmt, name, where)
                yield from self.members(blob, members, where, progress, layer, cheap=fmt == "zip")
        except ArchiveError as exc:
            self.problems.error(f"{where}: {exc}")
        except LimitHit as hit:
            self.skip(where, hit.limit, "rest of the archive not read")
        except Exception as exc:  # hostile input must never end the scan: report and go on
            self.problems.error(
                f"{where}: cannot read {formats.DESCRIPTIONS[fmt]} "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            )
        if not progress.read and not self.timed_out():
            yield from self.leaf(blob)  # nothing came out of it: scan the bytes as they are

    def open(self, blob: Blob, fmt: str, name: str, where: str) -> Iterable[Member]:
        """The members of a container, as a lazy sequence."""
        data = blob.data

        def warn(message: str) -> None:
            self.problems.error(f"{where}: {message}")

        if fmt == "zip":
            return ziparchive.members(data, warn, self.limits.max_members)
        if fmt == "tar":
            return tararchive.members_in_memory(data, warn)
        if fmt == "sourcemap":
            return sourcemaps.members(data)
        if formats.is_tar_header(compressed.head(fmt, data), hinted=_tar_like(name)):
            return tararchive.members_streamed(self.meter(compressed.decoded(fmt, data), len(data)))
        return [
            Member(
                name=compressed.inner_name(name, fmt),
                compressed=len(data),
                chunks=lambda: compressed.decoded(fmt, data),
            )
        ]

    def members(
        self,
        parent: Blob,
        members: Iterable[Member],
        where: str,
        progress: _Progress,
        layer: _Layer | None = None,
        *,
        cheap: bool = False,
    ) -> Iterator[Blob]:
        """Read each member within the limits and visit it. ``cheap``: naming the members
        costs nothing (a zip's central directory), so skipped ones are listed by name."""
        count = 0
        listed = 0
        unlisted: Counter[str] = Counter()
        it = iter(members)
        while True:
            try:
                member = next(it)
            except StopIteration:
                break
            except LimitHit as hit:
                self.skip(where, hit.limit, "rest of the archive not read")
                break
            if member.kind != "file":
                continue  # directories, links, devices: names only, never followed
            if layer is not None and images.is_whiteout(member.name):
                layer.whiteouts.record(member.name, layer.digest)
                continue
            location = f"{where}!{member.name}"
            if not self.on_the_way(location):
                continue
            count += 1
            limit = self.refusal(count)
            if limit is not None:
                if not cheap or self.stopped == "time":
                    self.skip(where, limit, "rest of the archive not read")
                    break
                if listed < SKIP_LIST_CAP:
                    self.skip(location, limit, "not read")
                    listed += 1
                else:
                    unlisted[limit] += 1
                continue
            if member.problem:
                self.problems.skip(location, member.problem)
                continue
            try:
                data = self.take(member, location)
            except LimitHit as hit:
                self.skip(where, hit.limit, "rest of the archive not read")
                break
            if data is None:
                continue
            progress.read += 1
            yield from self.visit(self.child(parent, member.name, data, layer))
        for limit, n in unlisted.items():
            self.skip(where, limit, f"{n} more members not read", count=n)

    def image(self, blob: Blob, where: str, progress: _Progress) -> Iterator[Blob]:
        """A ``docker save`` or OCI image tarball: configs and manifests as members, then each
        layer, top-down, with its digest and the whiteouts above it."""

        def warn(message: str) -> None:
            self.problems.error(f"{where}: {message}")

        listing = list(
            islice(tararchive.members_in_memory(blob.data, warn), self.limits.max_members + 1)
        )
        files = {images.normalize(m.name): m for m in listing if m.kind == "file"}
        plan = None
        if len(listing) <= self.limits.max_members:
            plan = images.layers(lambda path: self.read_json(files, path, where), files)
        if not plan:
            yield from self.members(blob, listing, where, progress)
            return
        layer_paths = {layer.member for layer in plan}
        others = [m for m in listing if images.normalize(m.name) not in layer_paths]
        yield from self.members(blob, others, where, progress)
        whiteouts = images.Whiteouts()
        for position, layer in enumerate(reversed(plan)):
            member = files.get(layer.member)
            location = f"{where}!{member.name if member else layer.member}"
            if not self.on_the_way(location):
                continue
            if member is None:
                self.problems.skip(location, "image layer listed in the manifest but missing")
                continue
            limit = self.refusal(len(others) + position + 1)
            if limit is not None:
                self.skip(location, limit, "image layer not read")
                continue
            data = self.take(member, location)
            if data is None:
                continue
            progress.read += 1
            digest = layer.digest or f"sha256:{hashlib.sha256(data).hexdigest()}"
            child = self.child(blob, member.name, data, None)
            child = replace(child, origin=replace(child.origin, layer=digest))
            yield from self.visit(child, _Layer(digest, whiteouts))
            whiteouts.commit()

    def read_json(self, files: dict[str, Member], path: str, where: str) -> Any:
        member = files.get(path)
        if member is None or member.size is None or member.size > JSON_CAP:
            return None
        data = self.take(member, f"{where}!{member.name}")
        try:
            return json.loads(data) if data else None
        except (ValueError, RecursionError):
            return None

    def leaf(self, blob: Blob) -> Iterator[Blob]:
        """A blob that is not a container, in the forms the engine can read."""
        data = blob.data
        if strings.is_binary(data):
            document = strings.utf16_document(data)
            if document is not None:
                yield _view(blob, document, UTF16_DOCUMENT_NOTE)
                return
            yield blob
            runs = strings.utf16_runs(data)
            if runs:
                yield _view(blob, runs, UTF16_RUNS_NOTE)
            return
        yield blob
        if sourcemaps.has_inline_maps(data):
            yield from self.inline_source_maps(blob)

    def inline_source_maps(self, blob: Blob) -> Iterator[Blob]:
        where = _where(blob.origin)
        for document in sourcemaps.inline_maps(blob.data):
            if blob.depth >= self.limits.max_depth:
                self.skip(where, "depth", "inline source map not opened")
                return
            try:
                yield from self.members(blob, sourcemaps.members(document), where, _Progress())
            except ArchiveError as exc:
                self.problems.error(f"{where}: inline source map: {exc}")

    def keystore(self, blob: Blob, fmt: str, where: str) -> Iterator[Blob]:
        try:
            cards, unread = keystores.cards(fmt, blob.data)
        except Exception as exc:  # a damaged keystore is a warning, never the end of the scan
            self.problems.error(
                f"{where}: {formats.DESCRIPTIONS[fmt]} could not be read ({type(exc).__name__})"
            )
            yield from self.leaf(blob)
            return
        for reason in unread:
            self.problems.skip(where, reason)
        for card in cards:
            yield _view(blob, card.text, card.note)

    def take(self, member: Member, location: str) -> bytes | None:
        """A member's bytes, or None (recorded as skipped) when a limit refuses them. A
        damaged member yields the bytes read before the damage, with a warning."""
        cap = self.limits.max_member_bytes
        declared = member.size
        if declared is not None and declared > cap:
            self.skip(location, "member-size", "not read")
            return None
        if declared is not None and not member.metered and declared > self.remaining():
            self.skip(location, "expanded", "not read")
            return None
        if member.chunks is None:
            return None
        ratio_cap = None
        if member.compressed is not None and self.limits.max_ratio > 0:
            ratio_cap = max(self.limits.max_ratio * member.compressed, RATIO_FLOOR)
        parts: list[bytes] = []
        size = 0
        try:
            for piece in member.chunks():
                size += len(piece)
                if not member.metered:
                    self.expanded += len(piece)
                refused = self.over(size, cap, ratio_cap, charged=not member.metered)
                if refused:
                    self.skip(location, refused, "not read")
                    return None
                if declared is not None and size > declared:
                    self.problems.error(
                        f"{location}: expands beyond its declared size ({declared} bytes); "
                        "not scanned"
                    )
                    return None
                parts.append(piece)
        except ArchiveError as exc:
            self.problems.error(f"{location}: {exc}; the {size} bytes before it are scanned")
        return b"".join(parts)

    def meter(self, chunks: Iterator[bytes], compressed_size: int) -> Iterator[bytes]:
        """A decompressing stream, charged against the budget as it is read, so a tar inside
        gzip is bounded even in the bytes of members nobody reads."""
        ratio_cap = None
        if self.limits.max_ratio > 0:
            ratio_cap = max(self.limits.max_ratio * compressed_size, RATIO_FLOOR)
        total = 0
        for piece in chunks:
            total += len(piece)
            self.expanded += len(piece)
            refused = self.over(total, None, ratio_cap, charged=True)
            if refused:
                raise LimitHit(refused)
            yield piece

    def over(
        self, size: int, cap: int | None, ratio_cap: int | None, *, charged: bool
    ) -> str | None:
        """Which limit (if any) ``size`` bytes of one member or stream break."""
        if charged and self.expanded > self.limits.max_expanded_bytes:
            self.stopped = "expanded"
            return "expanded"
        if cap is not None and size > cap:
            return "member-size"
        if ratio_cap is not None and size > ratio_cap:
            return "ratio"
        if time.monotonic() > self.deadline:
            self.stopped = "time"
            return "time"
        return None

    def refusal(self, count: int) -> str | None:
        """The limit that forbids reading the ``count``-th member of an archive, if any."""
        if count > self.limits.max_members:
            return "members"
        if self.stopped:
            return self.stopped
        if time.monotonic() > self.deadline:
            self.stopped = "time"
            return "time"
        return None

    def on_the_way(self, location: str) -> bool:
        target = self.target
        return target is None or target == location or target.startswith(location + "!")

    def timed_out(self) -> bool:
        return self.stopped == "time"

    def remaining(self) -> int:
        return max(0, self.limits.max_expanded_bytes - self.expanded)

    def child(self, parent: Blob, name: str, data: bytes, layer: _Layer | None) -> Blob:
        origin = parent.origin
        note = origin.note
        if layer is not None:
            deleted_by = layer.whiteouts.deleted_by(name)
            if deleted_by:
                note = (
                    f"deleted by a whiteout in a later image layer ({deleted_by}); still "
                    "present in this layer"
                )
        return Blob(
            data=data,
            origin=replace(origin, source="archive", path=f"{_where(origin)}!{name}", note=note),
            depth=parent.depth + 1,
        )

    def tag_layer(self, blob: Blob, fmt: str) -> Blob:
        """An image layer met on its own (an OCI layout directory, a compressed image
        tarball) is recognised by its content-addressed path."""
        if blob.origin.layer or fmt not in LAYER_FORMATS:
            return blob
        digest = images.digest_from_path(blob.origin.path)
        if digest is None and formats.last_segment(blob.origin.path).endswith("/layer.tar"):
            digest = f"sha256:{hashlib.sha256(blob.data).hexdigest()}"
        if digest is None:
            return blob
        return replace(blob, origin=replace(blob.origin, layer=digest))

    def skip(self, location: str, limit: str, what: str, *, count: int = 1) -> None:
        self.problems.skip(location, f"{what}: {self.limit_text(limit)}")
        self.hits[limit] = self.hits.get(limit, 0) + count

    def limit_text(self, limit: str) -> str:
        lim = self.limits
        return {
            "depth": f"nested deeper than --max-archive-depth ({lim.max_depth})",
            "members": f"over --max-archive-members ({lim.max_members}) in one archive",
            "expanded": f"--max-expanded-bytes ({lim.max_expanded_bytes}) used up",
            "ratio": f"expands more than --max-compression-ratio ({lim.max_ratio}) times",
            "time": f"--archive-timeout ({lim.max_seconds:g}s) reached",
            "member-size": f"member larger than --max-file-size ({lim.max_member_bytes} bytes)",
        }.get(limit, limit)

    def finish(self) -> None:
        """One warning per limit hit, naming the artifact."""
        for limit, n in sorted(self.hits.items()):
            self.problems.error(
                f"{self.top}: archive limit hit: {self.limit_text(limit)}; {n} item"
                f"{'s' if n != 1 else ''} skipped (see summary.skipped)"
            )


def _view(blob: Blob, data: bytes, note: str) -> Blob:
    """Another form of the same content, at the same location."""
    merged = f"{blob.origin.note}; {note}" if blob.origin.note else note
    return Blob(data=data, origin=replace(blob.origin, note=merged), depth=blob.depth)


def _where(origin: Origin) -> str:
    return origin.path or origin.blob_id or origin.root or "<input>"


def _tar_like(name: str) -> bool:
    """A compressed file whose name says a tar is inside (old v7 tars have no magic)."""
    lower = name.lower()
    return ".tar." in lower or lower.endswith((".tgz", ".tbz2", ".tbz", ".txz", ".crate"))

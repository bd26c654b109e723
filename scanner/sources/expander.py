"""The pipeline's Expansion: plain text, most of what a scan reads, goes to the engine as it
is; anything else goes to the artifacts reader (archives, keystores, images, UTF-16), which is
imported on the first blob that needs it, so scans of source trees never load it. Inline
source maps in plain text are found by the engine's keyword pass (their marker), not by a
second search of every blob."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.config import ArchiveLimits
from scanner.models import Blob
from scanner.pipeline import Expansion
from scanner.sources import formats
from scanner.sources.base import Problems


def expand(blob: Blob, limits: ArchiveLimits, problems: Problems) -> Iterable[Blob] | None:
    """None for plain text (the engine reads it as is), else what ``artifacts.expand`` makes
    of the blob."""
    if formats.plain(blob.data, formats.last_segment(blob.origin.path)):
        return None
    from scanner.sources import artifacts  # loaded on first need

    return artifacts.expand(blob, limits, problems)


def embedded(blob: Blob, limits: ArchiveLimits, problems: Problems) -> Iterable[Blob]:
    """What plain text with the inline source-map marker carries: the forms ``artifacts``
    makes of it, less the blob itself, which the engine has read already."""
    from scanner.sources import artifacts

    return (form for form in artifacts.expand(blob, limits, problems) if form is not blob)


EXPANSION = Expansion(expand=expand, embedded=embedded, markers=(formats.INLINE_SOURCE_MAP,))

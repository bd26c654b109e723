"""The pipeline's Expander: plain text, most of what a scan reads, passes straight through;
anything else goes to the artifacts reader (archives, keystores, images, UTF-16), which is
imported on the first blob that needs it, so scans of source trees never load it."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.config import ArchiveLimits
from scanner.models import Blob
from scanner.sources import formats, sourcemaps
from scanner.sources.base import Problems


def expand(blob: Blob, limits: ArchiveLimits, problems: Problems) -> Iterable[Blob]:
    """The blob's scannable forms: itself when it is plain text (a tuple, not a generator:
    this runs once per blob), else what ``artifacts.expand`` makes of it."""
    data = blob.data
    name = formats.last_segment(blob.origin.path)
    if formats.plain(data, name) and not sourcemaps.has_inline_maps(data):
        return (blob,)
    from scanner.sources import artifacts  # loaded on first need

    return artifacts.expand(blob, limits, problems)

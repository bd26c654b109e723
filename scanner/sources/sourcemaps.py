"""Source maps (``app.js.map``, inline ``//# sourceMappingURL=data:...``): the original sources a
bundle was built from travel in ``sourcesContent``, with their own lines. Each becomes a member
named by its source path, so a secret in ``src/config.ts`` is reported there, at its line,
rather than somewhere on line 1 of a minified bundle."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

from scanner.sources.containers import ArchiveError, Member, display_name, slices
from scanner.sources.formats import INLINE_SOURCE_MAP

MAX_SECTIONS_DEPTH = 4
INLINE_MARKER = INLINE_SOURCE_MAP
"""What every inline source map starts with (after ``//#`` or ``/*#``)."""
_XSSI_PREFIX = b")]}'"


def members(data: bytes) -> Iterator[Member]:
    """The sources of a source map that carry their content. ArchiveError if it is not one."""
    text = data.lstrip()
    if text.startswith(_XSSI_PREFIX):
        text = text[len(_XSSI_PREFIX) :]
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise ArchiveError("not a JSON source map") from None
    if not isinstance(document, dict) or not ("sources" in document or "sections" in document):
        raise ArchiveError("not a source map (no sources)")
    yield from _sources(document, 0)


def has_inline_maps(data: bytes) -> bool:
    """Whether ``data`` may embed a source map (``inline_maps`` then finds them)."""
    return INLINE_MARKER in data


def inline_maps(data: bytes) -> Iterator[bytes]:
    """Source maps embedded in JavaScript or CSS as base64 ``data:`` URLs."""
    start = data.find(INLINE_MARKER)
    while start >= 0:
        comma = data.find(b",", start, start + 200)
        if comma < 0:
            break
        header = data[start + len(INLINE_MARKER) : comma]
        run = _BASE64_RUN.match(data, comma + 1)
        end = run.end() if run else comma + 1
        if b"application/json" in header and b";base64" in header:
            try:
                document = base64.b64decode(data[comma + 1 : end], validate=False)
            except (binascii.Error, ValueError):
                document = b""
            if document:
                yield document
        start = data.find(INLINE_MARKER, end)


def _sources(document: dict[str, Any], depth: int) -> Iterator[Member]:
    if depth > MAX_SECTIONS_DEPTH:
        raise ArchiveError("source map sections nested too deep")
    for section in document.get("sections") or ():
        if isinstance(section, dict) and isinstance(section.get("map"), dict):
            yield from _sources(section["map"], depth + 1)
    names = document.get("sources") or []
    contents = document.get("sourcesContent") or []
    if not isinstance(names, list) or not isinstance(contents, list):
        return
    for i, content in enumerate(contents):
        if not isinstance(content, str) or not content:
            continue
        name = names[i] if i < len(names) and isinstance(names[i], str) else f"<source {i}>"
        encoded = content.encode("utf-8", "surrogatepass")
        yield Member(
            name=display_name(name),
            size=len(encoded),
            chunks=lambda encoded=encoded: slices(encoded),  # type: ignore[misc]
        )


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=]*")

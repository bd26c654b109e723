"""Container images: ``docker save`` tarballs (``manifest.json``, legacy ``<id>/layer.tar`` or
OCI ``blobs/sha256/...`` layers) and OCI image layouts (``oci-layout``, ``index.json``).

The manifests give the layers in order and their digests. Layers are read top-down so that,
when an earlier layer is read, the whiteouts of every later one are known: a file a later layer
deletes is still reported, in the layer that holds it, with a note saying so. Deleting a file
in a later layer does not remove it from the image anyone can pull.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

MAX_INDEX_DEPTH = 4
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_BLOB_PATH = re.compile(r"(?:^|/)blobs/(sha256|sha512)/([0-9a-f]{64}|[0-9a-f]{128})$")
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$")
_MARKERS = (b"manifest.json\x00", b"index.json\x00")


@dataclass(frozen=True)
class Layer:
    member: str
    """The layer's path inside the image tarball, normalised."""
    digest: str | None
    """``sha256:...`` when the manifest or the path says it; otherwise computed from the bytes."""


@dataclass
class Whiteouts:
    """What later layers delete; a layer's own whiteouts apply only to the layers below it."""

    deleted: dict[str, str] = field(default_factory=dict)
    opaque: dict[str, str] = field(default_factory=dict)
    _pending: list[tuple[str, str, bool]] = field(default_factory=list)

    def record(self, name: str, digest: str) -> None:
        path = normalize(name)
        directory, base = posixpath.split(path)
        if base == OPAQUE_MARKER:
            self._pending.append((directory, digest, True))
        elif base.startswith(WHITEOUT_PREFIX):
            target = posixpath.join(directory, base[len(WHITEOUT_PREFIX) :])
            self._pending.append((target, digest, False))

    def commit(self) -> None:
        """The layer just read is done: its whiteouts now apply to the layers below."""
        for path, digest, opaque in self._pending:
            (self.opaque if opaque else self.deleted).setdefault(path, digest)
        self._pending.clear()

    def deleted_by(self, name: str) -> str | None:
        """The digest of the later layer that deletes ``name``, if one does."""
        path = normalize(name)
        probe = path
        while probe:
            if probe in self.deleted:
                return self.deleted[probe]
            parent = posixpath.dirname(probe)
            if parent in self.opaque:
                return self.opaque[parent]
            probe = parent
        return None


def might_be_image(data: bytes) -> bool:
    """Cheap test before parsing an uncompressed tar's headers for an image's manifests."""
    return any(marker in data for marker in _MARKERS)


def layers(read_json: Callable[[str], Any], names: Collection[str]) -> list[Layer] | None:
    """The layers of an image in order (bottom first), or None if this is not an image."""
    if "manifest.json" in names:
        found = _docker_layers(read_json("manifest.json"))
        if found:
            return found
    if "index.json" in names and "oci-layout" in names:
        found = _oci_layers(read_json, read_json("index.json"), 0, [])
        if found:
            return found
    return None


def is_whiteout(name: str) -> bool:
    return posixpath.basename(normalize(name)).startswith(WHITEOUT_PREFIX)


def digest_from_path(path: str | None) -> str | None:
    """``sha256:<hex>`` for a content-addressed blob path (``.../blobs/sha256/<hex>``)."""
    if not path:
        return None
    m = _BLOB_PATH.search(path.rsplit("!", 1)[-1])
    return f"{m.group(1)}:{m.group(2)}" if m else None


def normalize(name: str) -> str:
    path = posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/")
    return "" if path == "." else path


def _docker_layers(manifest: Any) -> list[Layer]:
    found: list[Layer] = []
    seen: set[str] = set()
    if not isinstance(manifest, list):
        return found
    for image in manifest:
        paths = image.get("Layers") if isinstance(image, dict) else None
        for path in paths if isinstance(paths, list) else ():
            if isinstance(path, str) and normalize(path) not in seen:
                seen.add(normalize(path))
                found.append(Layer(member=normalize(path), digest=digest_from_path(path)))
    return found


def _oci_layers(
    read_json: Callable[[str], Any], index: Any, depth: int, found: list[Layer]
) -> list[Layer]:
    if depth > MAX_INDEX_DEPTH or not isinstance(index, dict):
        return found
    for descriptor in index.get("manifests") or ():
        path = _blob_path(descriptor)
        document = read_json(path) if path else None
        if not isinstance(document, dict):
            continue
        if "manifests" in document:
            _oci_layers(read_json, document, depth + 1, found)
            continue
        for layer in document.get("layers") or ():
            layer_path = _blob_path(layer)
            if layer_path and all(existing.member != layer_path for existing in found):
                found.append(Layer(member=layer_path, digest=str(layer["digest"])))
    return found


def _blob_path(descriptor: Any) -> str | None:
    if not isinstance(descriptor, dict):
        return None
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        return None
    algorithm, hexdigest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexdigest}"

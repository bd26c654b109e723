"""Re-read a redacted secret from where a report says it was found, so ``leakstop verify`` can
check an earlier report without rescanning everything.

The recorded location is read again and scanned with the finding's rule; the secret whose
fingerprint equals the finding's is the one (so a changed file is noticed, never guessed).
Files are read here. Git blobs (commit + path, or blob id) are read by the source that owns
them, which registers a reader with ``register_reader``. An archive member (``a.zip!b``) is
found again by reading its outermost file or git blob and letting the artifacts source walk
the chain, which also rebuilds the views a scan reads (the key cards of a keystore, the
UTF-16 text of a binary).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from scanner.engine import Engine
from scanner.models import Blob, Finding, Origin
from scanner.redact import MARK
from scanner.rules import load_ruleset
from scanner.sources import artifacts


class RereadError(Exception):
    """A secret could not be re-read; the message says why (never the secret)."""


# origin.source -> function returning the blob's bytes (raises RereadError or OSError)
Reader = Callable[[Origin], bytes]
_READERS: dict[str, Reader] = {}
MAX_REREAD_BYTES = 256 << 20


def register_reader(source: str, reader: Reader) -> None:
    """Let a source (git, archive...) re-read blobs of its kind for ``leakstop verify``."""
    _READERS[source] = reader


def is_redacted(finding: Finding) -> bool:
    return not finding.secret or MARK in finding.secret


class Rereader:
    """Re-reads secrets with one engine (built on first use) over all rules."""

    def __init__(self, rules_dir: Path | None = None) -> None:
        self.rules_dir = rules_dir
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._secrets: dict[Origin, dict[tuple[str, str], str]] = {}
        """Per location read: (rule id, fingerprint) -> secret, so a file is read once."""

    def secret(self, finding: Finding) -> str:
        """The plaintext secret of ``finding``; raises RereadError saying why not."""
        origin = finding.origin
        where = origin.path or origin.blob_id or "?"
        if origin not in self._secrets:
            self._secrets[origin] = self._scan(origin, where)
        secret = self._secrets[origin].get((finding.rule_id, finding.fingerprint))
        if secret is None:
            raise RereadError(
                f"{where}: the secret is no longer there (content changed since the scan)"
            )
        return secret

    def _scan(self, origin: Origin, where: str) -> dict[tuple[str, str], str]:
        outer = artifacts.outer_origin(origin)
        reader = _READERS.get(outer.source)
        if reader is None:
            raise RereadError(f"{where}: unknown source {outer.source!r}")
        try:
            data = reader(outer)
        except OSError as exc:
            raise RereadError(
                f"{where}: cannot read: {exc.strerror or type(exc).__name__}"
            ) from None
        if outer.source != "commit-message":
            try:
                data = artifacts.located(Blob(data=data, origin=outer), origin.path)
            except LookupError:
                raise RereadError(f"{where}: no longer in the archive") from None
        found = self.engine().scan(Blob(data=data, origin=origin)).findings
        return {(f.rule_id, f.fingerprint): f.secret for f in found}

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                # No filters: the finding passed them when it was made; only its rule matters.
                self._engine = Engine(load_ruleset("all", self.rules_dir), filters=())
            return self._engine


def read_file(origin: Origin) -> bytes:
    """A file finding's bytes: ``root/path`` (or ``root`` itself when a file was scanned)."""
    if origin.path is None:
        raise RereadError("no path recorded")
    root = Path(origin.root) if origin.root else None
    if root is not None and root.is_file():
        path = root
    elif root is not None:
        path = root / origin.path
        if not path.resolve().is_relative_to(root.resolve()):
            raise RereadError(f"{origin.path}: path leaves the scanned root")
    else:
        path = Path(origin.path)
    if path.is_symlink() or not path.is_file():
        raise RereadError(f"{origin.path}: not a regular file any more")
    if path.stat().st_size > MAX_REREAD_BYTES:
        raise RereadError(f"{origin.path}: too large to re-read")
    return path.read_bytes()


register_reader("file", read_file)

# The git source re-reads blobs and commit or tag messages: importing it registers its
# readers. It imports this module's names, all defined above, so the import sits here; and
# it registers itself, so either module may be imported first.
from scanner.sources import gitreread  # noqa: E402, F401

"""The values passed between stages: blobs in, findings out. All frozen, so no stage mutates
another's data; use ``dataclasses.replace`` to derive a changed copy."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Literal

Kind = Literal["client-secret", "private-key", "client-id", "token"]
KINDS: tuple[str, ...] = ("client-secret", "private-key", "client-id", "token")
SourceKind = Literal["file", "git", "commit-message", "archive"]
VerdictStatus = Literal["not_checked", "live", "dead", "unknown"]
VERDICTS: tuple[str, ...] = ("not_checked", "live", "dead", "unknown")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
# Confidence of a finding: "high" for ordinary hits, "test-fixture" where the location says the
# value is a test key a library ships on purpose (reported, never hidden).
Confidence = Literal["high", "test-fixture"]


@dataclass(frozen=True)
class Origin:
    """Where a blob came from: enough to report it and to read it again later."""

    source: SourceKind
    path: str | None
    """Relative to the scanned root; inside archives the chain joined by ``!``."""
    root: str | None = None
    """The PATH the user gave (a directory, file or repository), for re-reading."""
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    refs: tuple[str, ...] = ()
    repository: str | None = None
    blob_id: str | None = None
    """The git object id of the blob, for git sources."""
    layer: str | None = None
    """Container image layer digest, for image sources."""
    note: str | None = None
    """Free-form provenance remark, e.g. 'unreachable object: no commit or ref reaches it'."""


@dataclass(frozen=True)
class Blob:
    """A piece of content to scan and where it came from."""

    data: bytes = field(repr=False)
    origin: Origin
    depth: int = 0
    """Archive nesting depth: 0 for a top-level file or git object."""


_ORIGIN_DEFAULTS = {f.name: f.default for f in fields(Origin) if f.default is not MISSING}


def git_object_blob(data: bytes, root: str, blob_id: str) -> Blob:
    """``Blob(data, Origin(source="git", path=None, root=root, blob_id=blob_id))``, built fast
    (see ``_filled_blob``) for the per-object path of a history scan."""
    return _filled_blob(data, source="git", path=None, root=root, blob_id=blob_id)


def file_blob(data: bytes, root: str, path: str) -> Blob:
    """``Blob(data, Origin(source="file", path=path, root=root))``, built fast for the
    per-file path of a directory scan."""
    return _filled_blob(data, source="file", path=path, root=root)


def _filled_blob(data: bytes, **origin: object) -> Blob:
    """A top-level Blob whose frozen instances are filled directly rather than through the
    generated ``__init__`` (an ``object.__setattr__`` per field): about three times faster,
    for paths that build tens of thousands a second. The result is identical (tests hold it
    to that)."""
    filled = object.__new__(Origin)
    vars(filled).update(_ORIGIN_DEFAULTS, **origin)
    blob = object.__new__(Blob)
    vars(blob).update(data=data, origin=filled, depth=0)
    return blob


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one credential: live / dead / unknown, and why."""

    status: VerdictStatus
    reason: str
    client_id: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Finding:
    """One credential found at one location. ``secret`` is the plaintext and never leaves the
    process unredacted unless the user asks (``--show-secrets``)."""

    rule_id: str
    kind: Kind
    provider: str
    origin: Origin
    line: int
    column: int
    secret: str = field(repr=False)
    fingerprint: str
    severity: str = "high"
    client_id: str | None = None
    encrypted: bool = False
    confidence: Confidence = "high"
    attributes: tuple[tuple[str, str], ...] = ()
    """Other values captured with the secret (tenant id, domain, key algorithm, ...)."""
    verdict: VerdictStatus = "not_checked"
    verdict_reason: str | None = None
    owner: str | None = None

    @property
    def attrs(self) -> Mapping[str, str]:
        return dict(self.attributes)

    def with_verdict(self, verdict: Verdict) -> Finding:
        return replace(
            self,
            verdict=verdict.status,
            verdict_reason=verdict.reason,
            owner=verdict.owner or self.owner,
            client_id=self.client_id or verdict.client_id,
        )

    def sort_key(self) -> tuple[str, int, str, str, str, int, int, str, str]:
        """A total order that makes reports identical across runs and worker counts."""
        o = self.origin
        return (
            o.repository or "",
            _SOURCE_ORDER.get(o.source, 9),
            o.path or "",
            o.commit or "",
            o.blob_id or "",
            self.line,
            self.column,
            self.rule_id,
            self.fingerprint,
        )


_SOURCE_ORDER = {"file": 0, "archive": 1, "git": 2, "commit-message": 3}


@dataclass(frozen=True)
class Skipped:
    """Something the scan chose not to read, and why (a limit, an unreadable member...)."""

    location: str
    reason: str


@dataclass(frozen=True)
class Summary:
    findings: int = 0
    blobs_scanned: int = 0
    bytes_scanned: int = 0
    errors: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    dropped: tuple[tuple[str, int], ...] = ()
    """How many candidates each filter dropped, as (filter name, count)."""
    seconds: float = 0.0


@dataclass(frozen=True)
class ScanResult:
    findings: tuple[Finding, ...]
    summary: Summary
    explained: tuple[tuple[str, Finding], ...] = ()
    """With ``Config.explain``: each candidate a filter or check dropped, and why."""


def secret_hash(secret: str) -> str:
    """Hex SHA-256 of a secret: what baselines and the registry store instead of plaintext."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def make_fingerprint(rule_id: str, normalized_secret: str) -> str:
    """A location-independent id for a credential under a rule: the rule id and a secret hash.
    Joined by '/', never ':' or '=': ``…-client-secret:<hex>`` would read as an assignment, and
    leakstop would report its own reports and baselines."""
    return f"{rule_id}/{secret_hash(normalized_secret)[:32]}"


def fingerprint_hash(fingerprint: str) -> str:
    """The secret-hash part of a fingerprint (also of the older ``rule:hash`` form)."""
    return fingerprint.replace(":", "/").rsplit("/", 1)[-1]

"""What every verifier shares: the credential it checks, the outcome it reports, its options,
and the one error type of the verification stage."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from scanner.errors import LeakstopError

if TYPE_CHECKING:
    from scanner.verify.http import HttpClient

Status = Literal["live", "dead", "unknown"]
CredentialKind = Literal["client-secret", "private-key"]


class VerifyError(LeakstopError):
    """Verification cannot run at all (bad options). Problems with single credentials are
    ``unknown`` verdicts, never this error; messages never contain a secret."""


@dataclass(frozen=True)
class VerifyOptions:
    """How verification runs; the defaults are safe for real identity providers."""

    live: bool = True
    """False: offline inventory match only, no network."""
    timeout: float = 10.0
    """Seconds for connect, for each read, and for a whole answer."""
    concurrency: int = 8
    """Checks in flight at once (threads)."""
    per_host_rate: float = 10.0
    """Requests per second to any one host; 0 means no limit."""
    max_retry_after: float = 5.0
    """A 429 whose Retry-After is at most this many seconds is waited out and retried once."""
    endpoints: Mapping[str, str] = field(default_factory=dict)
    """Provider name -> base URL replacing its public endpoint (tests, proxies)."""
    environ: Mapping[str, str] | None = None
    """Where ``*_env`` variables named by the registry are read; None: ``os.environ``."""
    reread: bool = True
    """Re-read redacted secrets of a loaded report from where they were found."""
    rules_dir: Path | None = None
    """Extra rules used when the report was made (to re-read their secrets)."""

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise VerifyError("verification timeout must be positive")
        if self.concurrency < 1:
            raise VerifyError("verification concurrency must be at least 1")
        if self.per_host_rate < 0:
            raise VerifyError("per-host rate must be zero (no limit) or positive")


@dataclass(frozen=True)
class Credential:
    """A secret or private key to check, with what was found next to it."""

    kind: CredentialKind
    secret: str = field(repr=False)
    client_id: str | None = None
    provider: str = "generic"
    attributes: tuple[tuple[str, str], ...] = ()
    key: Any = field(default=None, repr=False, compare=False)
    """The parsed private key (cryptography object) for ``private-key`` credentials."""
    thumbprint: str | None = None
    """RFC 7638 thumbprint of the public key, when known."""

    def attr(self, name: str) -> str | None:
        return dict(self.attributes).get(name)

    @property
    def digest(self) -> str:
        """A non-secret identity of the credential, for caches and logs."""
        if self.thumbprint:
            return "jwk:" + self.thumbprint
        return hashlib.sha256(self.secret.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """One check interpreted. ``reason`` quotes at most a server's ``error`` code."""

    status: Status
    reason: str
    transient: bool = False
    """An unknown that says: stop asking this server now (rate limit, outage, not OAuth)."""
    needs_control: bool = False
    """Live only because of an error code a server sends after authenticating the client;
    confirmed by a control request with a wrong credential before it is reported."""


def live(reason: str, *, needs_control: bool = False) -> Outcome:
    return Outcome("live", reason, needs_control=needs_control)


def dead(reason: str) -> Outcome:
    return Outcome("dead", reason)


def unknown(reason: str, *, transient: bool = False) -> Outcome:
    return Outcome("unknown", reason, transient=transient)


class Verifier(Protocol):
    """Checks one kind of credential at one place (an issuer, a provider's endpoint)."""

    name: str

    def cache_key(self, credential: Credential) -> Hashable:
        """Equal for two checks that would send the same requests (one check per run)."""
        ...

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        """Never raises for a server's behaviour: every failure is an ``unknown`` outcome."""
        ...

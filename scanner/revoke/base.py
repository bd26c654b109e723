"""What every revocation backend shares: the target it acts on, the result it reports, the
options of a run, and the one error type of the revocation stage.

A backend is a small object with four methods: ``endpoint`` (shown in the plan), ``preflight``
(why it cannot act, decided without any network call), ``act`` (the state-changing calls) and
``resolve`` (after a crash between an audit ``intent`` and its outcome: did the call happen?).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from scanner.errors import LeakstopError
from scanner.models import Finding, Verdict
from scanner.registry import Client, Issuer, Registry

if TYPE_CHECKING:
    from scanner.revoke.sinks import Sink
    from scanner.verify.http import Answer, HttpClient

Phase = Literal["intent", "done", "failed"]
Resolution = Literal["done", "redo", "failed"]


class RevokeError(LeakstopError):
    """Revocation cannot run at all (bad options, a locked or unreadable audit log). Problems
    with single actions are ``failed`` results, never this error; messages never contain a
    secret or token."""


class ActionError(Exception):
    """Raised inside a backend to fail one action; the message is secret-free."""


@dataclass(frozen=True)
class RevokeOptions:
    """How a revocation run talks to the world; the defaults are for real providers."""

    timeout: float = 20.0
    """Seconds for connect and for each read."""
    endpoints: Mapping[str, str] = field(default_factory=dict)
    """Backend name -> base URL replacing its public endpoint (tests, proxies, GitHub
    Enterprise): auth0, okta, keycloak, graph, github, azure (Entra login, for re-checks)."""
    environ: Mapping[str, str] | None = None
    """Where the ``*_env`` variables the registry names are read; None: ``os.environ``."""
    reread: bool = True
    """Re-read redacted secrets of a loaded report from where they were found."""


@dataclass(frozen=True)
class Target:
    """A live leaked credential and the registered client it belongs to."""

    finding: Finding
    client: Client
    issuer: Issuer | None = None
    secret: str | None = field(default=None, repr=False)
    """The plaintext credential, when the report has it or it could be re-read."""

    @property
    def fingerprint(self) -> str:
        return self.finding.fingerprint


@dataclass(frozen=True)
class Result:
    """What one action did. ``reason`` and ``facts`` are secret-free."""

    status: Literal["done", "failed"]
    reason: str
    facts: tuple[tuple[str, str], ...] = ()
    """Extra secret-free details for the audit log (new key id, issue number...)."""
    new_secret: str | None = field(default=None, repr=False)
    """A rotated secret, kept in memory only to check that it authenticates."""
    uncertain: bool = False
    """A state-changing call got no answer (timeout, reset): it may have happened. The next
    run resolves it by asking first, as after a crash."""


def done(reason: str, **facts: str) -> Result:
    return Result("done", reason, tuple(facts.items()))


def failed(reason: str, **facts: str) -> Result:
    return Result("failed", reason, tuple(facts.items()))


def call_failed(reason: str, answer: Answer) -> Result:
    """A failed state-changing call; uncertain when it got no answer at all."""
    return Result("failed", reason, uncertain=answer.failure is not None)


@dataclass
class Context:
    """What a backend may use while it acts: HTTP, options, the registry, secret delivery, and
    a way to register values that must never appear in output."""

    http: HttpClient
    options: RevokeOptions
    registry: Registry
    sink: Sink | None = None
    sensitive: Callable[[str | None], None] = lambda _value: None

    def env(self, name: str | None) -> str | None:
        """A variable the registry names; its value is registered as sensitive."""
        source = os.environ if self.options.environ is None else self.options.environ
        value = (source.get(name) or None) if name else None
        self.sensitive(value)
        return value

    def deliver(self, target: Target, values: Mapping[str, str]) -> None:
        """Deliver new credentials to the client's sink (raises ActionError)."""
        for value in values.values():
            self.sensitive(value)
        if self.sink is None:
            raise ActionError("no secret_sink named for this client")
        self.sink.deliver(values)

    def check(self, target: Target, secret: str | None = None) -> Verdict:
        """Verify ``secret`` (default: the leaked one) as the target's client, now."""
        from scanner.revoke.recheck import recheck

        return recheck(target, self, target.secret if secret is None else secret)


class Backend(Protocol):
    """One way of shutting off a leaked credential."""

    name: str
    rotates: bool
    """True when it issues a new secret, which then needs a sink."""
    kills: bool
    """True when the leaked credential must be dead afterwards (not so for notify)."""

    def endpoint(self, target: Target) -> str:
        """Where it acts, for the plan (no network)."""
        ...

    def preflight(self, target: Target, ctx: Context) -> str | None:
        """Why it cannot act (missing admin token, no registration URI...), or None."""
        ...

    def act(self, target: Target, ctx: Context) -> Result:
        """The state-changing calls. Never raises for a server's behaviour."""
        ...

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        """After a crash between ``intent`` (at ``since``) and its outcome: ``done`` (it
        happened), ``redo`` (safe to act again) or ``failed`` (cannot tell, or cannot redo)."""
        ...

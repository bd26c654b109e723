"""What the provider plugins share: a base URL that tests can point at 127.0.0.1, a cache key
over the values the check uses, and the nonce values sent where a provider wants a code."""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from typing import ClassVar

from scanner.verify.base import Credential, Outcome
from scanner.verify.http import HttpClient


class ProviderVerifier:
    """A verifier for one provider's fixed public endpoint (``base_url`` overrides it)."""

    name: str
    default_base: str
    uses: ClassVar[tuple[str, ...]] = ()
    """Finding attributes the check depends on (tenant_id, domain...): part of the cache key."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base = (base_url or self.default_base).rstrip("/")

    def cache_key(self, credential: Credential) -> Hashable:
        attrs = tuple(credential.attr(a) for a in self.uses)
        return (self.name, self.base, credential.client_id, attrs, credential.digest)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        raise NotImplementedError


def bogus_code() -> str:
    """An authorization code no server issued: providers that check the client before the
    code answer ``invalid_grant`` (or their equivalent) only to an authenticated client."""
    return "leakstop-" + secrets.token_urlsafe(24)


REDIRECT_URI = "http://127.0.0.1/leakstop-verify"

"""What the provider plugins share: a base URL that tests can point at 127.0.0.1, a cache key
over the values the check uses, and the nonce values sent where a provider wants a code."""

from __future__ import annotations

import re
import secrets
from collections.abc import Hashable
from typing import ClassVar

from scanner.verify.base import Credential, Outcome, unknown
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret, classify


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


class TenantDomainVerifier(ProviderVerifier):
    """A provider whose token endpoint is at each customer's own domain (Okta, Auth0). The
    domain comes from the content next to the secret, so it is used only when it matches the
    provider's own pattern: content can never point a check at another host."""

    default_base = "https://{domain}"
    uses = ("domain",)
    label: ClassVar[str]
    domain_pattern: ClassVar[re.Pattern[str]]
    domain_example: ClassVar[str]
    endpoint_path: ClassVar[str]

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        domain = (credential.attr("domain") or "").lower()
        if not self.domain_pattern.fullmatch(domain):
            return unknown(f"no {self.label} domain ({self.domain_example}) near the secret")
        if not credential.client_id:
            return unknown(f"no {self.label} client id near the secret")
        endpoint = self.base.replace("{domain}", domain) + self.endpoint_path
        return check_secret(
            http,
            ServerMetadata(issuer=domain, token_endpoint=endpoint),
            credential.client_id,
            credential.secret,
            grant=self.grant(domain),
            judge=self.judge,
        )

    def grant(self, domain: str) -> dict[str, str]:
        raise NotImplementedError

    def judge(self, answer: Answer) -> Outcome:
        return classify(answer)


def bogus_code_grant() -> dict[str, str]:
    """An authorization-code request for a code the provider never issued."""
    return {"grant_type": "authorization_code", "code": bogus_code(), "redirect_uri": REDIRECT_URI}


def bogus_code() -> str:
    """An authorization code no server issued: providers that check the client before the
    code answer ``invalid_grant`` (or their equivalent) only to an authenticated client."""
    return "leakstop-" + secrets.token_urlsafe(24)


REDIRECT_URI = "http://127.0.0.1/leakstop-verify"

"""Salesforce connected apps: an authorization-code request with a code Salesforce never
issued, at login.salesforce.com and, when production does not know the consumer key, at
test.salesforce.com (sandbox apps). ``invalid_client_id`` (unknown consumer key) and
``invalid_client`` (wrong consumer secret) come back as 400; ``invalid_grant`` means the
consumer key and secret authenticated."""

from __future__ import annotations

import re

from scanner.verify.base import Credential, Outcome, dead, live
from scanner.verify.base import unknown as unknown_outcome
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret, classify
from scanner.verify.providers.common import ProviderVerifier, bogus_code_grant

CONSUMER_KEY = re.compile(r"3MVG[A-Za-z0-9._]{40,120}")
SANDBOX_BASE = "https://test.salesforce.com"
_REFUSED = {"invalid_client_id": "unknown consumer key", "invalid_client": "wrong consumer secret"}


class SalesforceVerifier(ProviderVerifier):
    name = "salesforce"
    default_base = "https://login.salesforce.com"

    def __init__(self, base_url: str | None = None, sandbox_url: str | None = None) -> None:
        super().__init__(base_url)
        self.sandbox = (sandbox_url or SANDBOX_BASE).rstrip("/")

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        if not credential.client_id or not CONSUMER_KEY.fullmatch(credential.client_id):
            return unknown_outcome("no Salesforce consumer key (3MVG…) near the secret")
        production = self._check(self.base, credential, http)
        if production.status != "dead" or "invalid_client_id" not in production.reason:
            return production
        sandbox = self._check(self.sandbox, credential, http)
        if sandbox.status == "dead":
            return dead(f"production: {production.reason}; sandbox: {sandbox.reason}")
        return Outcome(sandbox.status, f"sandbox: {sandbox.reason}", transient=sandbox.transient)

    def _check(self, base: str, credential: Credential, http: HttpClient) -> Outcome:
        assert credential.client_id is not None
        grant = bogus_code_grant()
        return check_secret(
            http,
            ServerMetadata(
                issuer=base,
                token_endpoint=f"{base}/services/oauth2/token",
                auth_methods=("client_secret_post",),
            ),
            credential.client_id,
            credential.secret,
            grant=grant,
            judge=judge,
        )


def judge(answer: Answer) -> Outcome:
    error = answer.error
    if answer.status == 400 and error in _REFUSED:
        return dead(f"token endpoint: 400 {error} ({_REFUSED[error]})")
    if answer.status == 400 and error == "redirect_uri_mismatch":
        return live(
            "token endpoint: 400 redirect_uri_mismatch after client authentication",
            needs_control=True,
        )
    return classify(answer)

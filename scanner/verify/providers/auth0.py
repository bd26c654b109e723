"""Auth0: ``client_credentials`` for the tenant's Management API at the domain found next to
the secret -- only when it is an Auth0 domain (``*.auth0.com``, ``*.eu.auth0.com``...).
Auth0 answers 401 to bad client credentials and 403 ``access_denied`` /
``unauthorized_client`` to a client that authenticated but may not use that API or grant."""

from __future__ import annotations

import re

from scanner.verify.base import Credential, Outcome, live, unknown
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret, classify
from scanner.verify.providers.common import ProviderVerifier

AUTH0_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z]{2})?\.auth0\.com")
_AUTHENTICATED_BUT_REFUSED = frozenset({"access_denied", "unauthorized_client"})


class Auth0Verifier(ProviderVerifier):
    name = "auth0"
    default_base = "https://{domain}"
    uses = ("domain",)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        domain = (credential.attr("domain") or "").lower()
        if not AUTH0_DOMAIN.fullmatch(domain):
            return unknown("no Auth0 domain (*.auth0.com) near the secret")
        if not credential.client_id:
            return unknown("no Auth0 client id near the secret")
        endpoint = self.base.replace("{domain}", domain) + "/oauth/token"
        grant = {"grant_type": "client_credentials", "audience": f"https://{domain}/api/v2/"}
        return check_secret(
            http,
            ServerMetadata(issuer=domain, token_endpoint=endpoint),
            credential.client_id,
            credential.secret,
            grant=grant,
            judge=judge,
        )


def judge(answer: Answer) -> Outcome:
    if answer.status == 403 and answer.error in _AUTHENTICATED_BUT_REFUSED:
        return live(
            f"token endpoint: 403 {answer.error} after client authentication", needs_control=True
        )
    return classify(answer)

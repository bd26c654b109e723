"""Auth0: ``client_credentials`` for the tenant's Management API at the domain found next to
the secret -- only when it is an Auth0 domain (``*.auth0.com``, ``*.eu.auth0.com``...).
Auth0 answers 401 to bad client credentials and 403 ``access_denied`` /
``unauthorized_client`` to a client that authenticated but may not use that API or grant."""

from __future__ import annotations

import re

from scanner.verify.base import Outcome, live
from scanner.verify.http import Answer
from scanner.verify.oauth import classify
from scanner.verify.providers.common import TenantDomainVerifier

AUTH0_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z]{2})?\.auth0\.com")
_AUTHENTICATED_BUT_REFUSED = frozenset({"access_denied", "unauthorized_client"})


class Auth0Verifier(TenantDomainVerifier):
    name = "auth0"
    label = "Auth0"
    domain_pattern = AUTH0_DOMAIN
    domain_example = "*.auth0.com"
    endpoint_path = "/oauth/token"

    def grant(self, domain: str) -> dict[str, str]:
        return {"grant_type": "client_credentials", "audience": f"https://{domain}/api/v2/"}

    def judge(self, answer: Answer) -> Outcome:
        if answer.status == 403 and answer.error in _AUTHENTICATED_BUT_REFUSED:
            return live(
                f"token endpoint: 403 {answer.error} after client authentication",
                needs_control=True,
            )
        return classify(answer)

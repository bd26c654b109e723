"""Okta: an authorization-code request with a code Okta never issued, at the org
authorization server of the domain found next to the secret -- only when that domain is an
Okta domain (``*.okta.com``, ``*.oktapreview.com``, ``*.okta-emea.com``...), so content can
never point the check at another host. The answers follow the standard mapping."""

from __future__ import annotations

import re

from scanner.verify.base import Credential, Outcome, unknown
from scanner.verify.http import HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret
from scanner.verify.providers.common import REDIRECT_URI, ProviderVerifier, bogus_code

OKTA_DOMAIN = re.compile(
    r"[a-z0-9][a-z0-9-]{0,62}\.(?:okta|oktapreview|okta-emea|okta-gov|okta-mil)\.com"
)


class OktaVerifier(ProviderVerifier):
    name = "okta"
    default_base = "https://{domain}"
    uses = ("domain",)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        domain = (credential.attr("domain") or "").lower()
        if not OKTA_DOMAIN.fullmatch(domain):
            return unknown("no Okta domain (*.okta.com) near the secret")
        if not credential.client_id:
            return unknown("no Okta client id near the secret")
        endpoint = self.base.replace("{domain}", domain) + "/oauth2/v1/token"
        grant = {
            "grant_type": "authorization_code",
            "code": bogus_code(),
            "redirect_uri": REDIRECT_URI,
        }
        return check_secret(
            http,
            ServerMetadata(issuer=domain, token_endpoint=endpoint),
            credential.client_id,
            credential.secret,
            grant=grant,
        )

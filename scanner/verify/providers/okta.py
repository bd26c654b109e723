"""Okta: an authorization-code request with a code Okta never issued, at the org
authorization server of the domain found next to the secret -- only when that domain is an
Okta domain (``*.okta.com``, ``*.oktapreview.com``, ``*.okta-emea.com``...). The answers
follow the standard mapping."""

from __future__ import annotations

import re

from scanner.verify.providers.common import TenantDomainVerifier, bogus_code_grant

OKTA_DOMAIN = re.compile(
    r"[a-z0-9][a-z0-9-]{0,62}\.(?:okta|oktapreview|okta-emea|okta-gov|okta-mil)\.com"
)


class OktaVerifier(TenantDomainVerifier):
    name = "okta"
    label = "Okta"
    domain_pattern = OKTA_DOMAIN
    domain_example = "*.okta.com"
    endpoint_path = "/oauth2/v1/token"

    def grant(self, domain: str) -> dict[str, str]:
        return bogus_code_grant()

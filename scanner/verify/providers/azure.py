"""Microsoft Entra ID (Azure AD): ``client_credentials`` at the v2.0 token endpoint of the
tenant found next to the secret. Entra's error codes (AADSTS...) in ``error_description``
decide before the OAuth ``error``: it reports an unknown application as
``unauthorized_client``, which the standard mapping would wrongly read as authenticated."""

from __future__ import annotations

import re

from scanner.verify.base import Credential, Outcome, dead, unknown
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret, classify
from scanner.verify.providers.common import ProviderVerifier

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
TENANT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CLIENT_ID = TENANT
_AADSTS = re.compile(r"\bAADSTS(\d{5,9})\b")
# code -> (status, reason)
AADSTS = {
    "7000215": ("dead", "invalid client secret"),
    "7000222": ("dead", "client secret expired"),
    "700016": ("dead", "application not found in the tenant"),
    "90002": ("unknown", "tenant not found"),
    "900023": ("unknown", "tenant id not valid"),
}


class AzureVerifier(ProviderVerifier):
    name = "azure"
    default_base = "https://login.microsoftonline.com"
    uses = ("tenant_id",)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        tenant = credential.attr("tenant_id") or ""
        if not TENANT.fullmatch(tenant):
            return unknown("no tenant id near the secret (Entra checks need the tenant)")
        if not credential.client_id or not CLIENT_ID.fullmatch(credential.client_id):
            return unknown("no application (client) id near the secret")
        endpoint = f"{self.base}/{tenant.lower()}/oauth2/v2.0/token"
        return check_secret(
            http,
            ServerMetadata(
                issuer=tenant, token_endpoint=endpoint, auth_methods=("client_secret_post",)
            ),
            credential.client_id,
            credential.secret,
            scope=GRAPH_DEFAULT_SCOPE,
            judge=judge,
        )


def judge(answer: Answer) -> Outcome:
    match = _AADSTS.search(answer.error_description) if answer.status in (400, 401) else None
    if match and match.group(1) in AADSTS:
        status, text = AADSTS[match.group(1)]
        reason = f"token endpoint: {answer.status} AADSTS{match.group(1)} ({text})"
        return dead(reason) if status == "dead" else unknown(reason)
    return classify(answer)

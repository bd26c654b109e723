"""Google OAuth clients: an authorization-code request with a code Google never issued.
Google authenticates the client first, so ``invalid_grant`` means the id and secret are right;
``invalid_client`` (wrong secret or unknown id), ``deleted_client`` and ``disabled_client``
mean they no longer work."""

from __future__ import annotations

from scanner.verify.base import Credential, Outcome, dead, live, unknown
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import ServerMetadata, check_secret, classify
from scanner.verify.providers.common import ProviderVerifier, bogus_code_grant

_CLIENT_GONE = {"deleted_client": "client deleted", "disabled_client": "client disabled"}


class GoogleVerifier(ProviderVerifier):
    name = "google"
    default_base = "https://oauth2.googleapis.com"

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        if not credential.client_id or not credential.client_id.endswith(
            ".apps.googleusercontent.com"
        ):
            return unknown("no Google client id (….apps.googleusercontent.com) near the secret")
        meta = ServerMetadata(issuer=self.name, token_endpoint=f"{self.base}/token")
        grant = bogus_code_grant()
        return check_secret(
            http, meta, credential.client_id, credential.secret, grant=grant, judge=judge
        )


def judge(answer: Answer) -> Outcome:
    error = answer.error
    if answer.status in (400, 401) and error in _CLIENT_GONE:
        return dead(f"token endpoint: {answer.status} {error} ({_CLIENT_GONE[error]})")
    if answer.status == 400 and error == "redirect_uri_mismatch":
        return live(
            "token endpoint: 400 redirect_uri_mismatch after client authentication",
            needs_control=True,
        )
    return classify(answer)

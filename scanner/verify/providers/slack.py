"""Slack apps: ``oauth.v2.access`` with a code Slack never issued. Slack answers HTTP 200 with
``{"ok": false, "error": ...}``: ``invalid_client_id`` / ``bad_client_secret`` mean the
credentials do not work, ``invalid_code`` (and other complaints about the code) that they do."""

from __future__ import annotations

import re
from collections.abc import Mapping

from scanner.verify.base import Credential, Outcome, dead, live, unknown
from scanner.verify.http import Answer, HttpClient
from scanner.verify.oauth import classify, control_secret, try_each
from scanner.verify.providers.common import ProviderVerifier, bogus_code

CLIENT_ID = re.compile(r"[0-9]{6,16}\.[0-9]{6,16}")
REFUSED = frozenset({"invalid_client_id", "bad_client_secret"})
CODE_COMPLAINTS = frozenset({"invalid_code", "code_already_used", "bad_redirect_uri"})


class SlackVerifier(ProviderVerifier):
    name = "slack"
    default_base = "https://slack.com"

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        client_id = credential.client_id
        if not client_id or not CLIENT_ID.fullmatch(client_id):
            return unknown("no Slack client id near the secret")
        url = f"{self.base}/api/oauth.v2.access"
        code = bogus_code()

        def attempt(_way: str, secret: str) -> Outcome:
            form = {"client_id": client_id, "client_secret": secret, "code": code}
            return judge(http.post(url, data=form))

        return try_each([""], attempt, credential.secret, control_secret(), "secret")


def judge(answer: Answer) -> Outcome:
    body = answer.body
    if answer.status != 200 or not isinstance(body, Mapping) or "ok" not in body:
        return classify(answer, "oauth.v2.access")
    if body.get("ok") is True:
        return live("oauth.v2.access: ok")
    error = answer.error or "unrecognised error"
    if error in REFUSED:
        return dead(f"oauth.v2.access: {error}")
    if error in CODE_COMPLAINTS:
        return live(f"oauth.v2.access: {error} after client authentication", needs_control=True)
    return unknown(f"oauth.v2.access: {error}", transient=error == "ratelimited")

"""GitHub. An OAuth app's (or GitHub App's) client id and secret: the application token check
(``POST /applications/{client_id}/token`` with Basic authentication) for a token that does not
exist -- 404 means the id and secret authenticated, 401 that they did not. A GitHub App's
private key: an app JWT signed with the key for the App id (or client id) found with it,
``GET /app`` through PyGithub -- 200 means the key belongs to that App."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.registry import check_url
from scanner.verify.base import Credential, Outcome, dead, live, unknown
from scanner.verify.http import Answer, HttpClient, transport_failure
from scanner.verify.oauth import classify, control_secret, try_each
from scanner.verify.providers.common import ProviderVerifier
from scanner.verify.signing import control_key

CLIENT_ID = re.compile(r"Iv1\.[0-9a-f]{16}|Iv23[A-Za-z0-9]{16}|Ov23[A-Za-z0-9]{16}|[0-9a-f]{20}")
APP_CLIENT_ID = re.compile(r"Iv1\.[0-9a-f]{16}|Iv23[A-Za-z0-9]{16}")
APP_ID = re.compile(r"[0-9]{1,12}")
_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_CLOCK_WORDS = ("'exp'", "'iat'", "expiration time", "issued at", "too far in the future")
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubOAuthVerifier(ProviderVerifier):
    """Client id + client secret of an OAuth app or a GitHub App."""

    name = "github"
    default_base = "https://api.github.com"

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        client_id = credential.client_id
        if not client_id or not CLIENT_ID.fullmatch(client_id):
            return unknown("no GitHub client id near the secret")
        url = f"{self.base}/applications/{quote(client_id, safe='')}/token"
        # A token of the right shape that no one was ever issued.
        probe = {"access_token": "gho_" + secrets.token_hex(18)}

        def attempt(_way: str, secret: str) -> Outcome:
            return judge(
                http.post(url, json_body=probe, headers=API_HEADERS, auth=(client_id, secret))
            )

        return try_each([""], attempt, credential.secret, control_secret(), "secret")


def judge(answer: Answer) -> Outcome:
    where = "application token check"
    if answer.status == 404 and answer.kind in ("json", "empty"):
        return live(f"{where}: 404 for an unknown token (client authenticated)", needs_control=True)
    if answer.status == 200 and answer.kind == "json":
        return live(f"{where}: 200")
    if answer.status == 401 and answer.kind in ("json", "empty"):
        return dead(f"{where}: 401 bad credentials")
    if answer.status == 422:
        return unknown(f"{where}: 422 validation failed or endpoint spammed", transient=True)
    if answer.status == 403:
        return unknown(f"{where}: 403 forbidden or rate limited", transient=True)
    return classify(answer, where)


class GitHubAppVerifier(ProviderVerifier):
    """A GitHub App private key, checked as an app JWT for the App id found with it."""

    name = "github-app"
    default_base = "https://api.github.com"
    uses = ("app_id",)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        app = app_identifier(credential)
        if app is None:
            return unknown("no GitHub App id near the key")
        if not isinstance(credential.key, rsa.RSAPrivateKey):
            return unknown("GitHub App keys are RSA; this key cannot be one")
        outcome = self._get_app(app, credential.key, http)
        if outcome.status == "live":
            control = self._get_app(app, control_key("RSA"), http)
            if control.status != "dead":
                return unknown(f"{outcome.reason}; control request inconclusive: {control.reason}")
        return outcome

    def _get_app(self, app: str, key: Any, http: HttpClient) -> Outcome:
        from github import Auth, GithubException, GithubIntegration

        where = "GET /app"
        try:
            check_url(self.base, "GitHub API URL")
        except ValueError as exc:
            return unknown(f"{where}: {exc}")
        http.wait_turn(self.base)
        integration = GithubIntegration(
            auth=Auth.AppAuth(app, private_key=lambda: key),
            base_url=self.base,
            timeout=http.options.timeout,  # type: ignore[arg-type]
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            verify=http.tls_verify(self.base),
        )
        try:
            found = integration.get_app()
            slug = found.slug if isinstance(found.slug, str) else ""
        except GithubException as exc:
            return _github_error(where, exc)
        except requests.RequestException as exc:
            return unknown(
                f"{where}: {transport_failure(exc, http.options.timeout)}", transient=True
            )
        except RuntimeError:  # PyGithub refuses a redirect to another host or scheme
            return unknown(f"{where}: redirect, not followed", transient=True)
        finally:
            integration.close()
        named = f" as {slug}" if _SLUG.fullmatch(slug or "") else ""
        return live(f"{where}: 200, the key authenticates{named}")


def app_identifier(credential: Credential) -> str | None:
    """The App id (digits) or GitHub App client id (Iv1./Iv23...) found with the key."""
    app_id = credential.attr("app_id") or credential.attr("github_app_id")
    if app_id and APP_ID.fullmatch(app_id):
        return app_id
    if credential.client_id and APP_CLIENT_ID.fullmatch(credential.client_id):
        return credential.client_id
    return None


def _github_error(where: str, exc: Any) -> Outcome:
    status = int(getattr(exc, "status", 0) or 0)
    data = getattr(exc, "data", None)
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    if status == 401:
        if any(word in message.lower() for word in _CLOCK_WORDS):
            return unknown(f"{where}: 401 for the JWT's time claims (clock skew?)")
        return dead(f"{where}: 401, the key does not authenticate as this App")
    if status in (403, 429):
        return unknown(f"{where}: {status} rate limited or forbidden", transient=True)
    if status >= 500:
        return unknown(f"{where}: {status} server error", transient=True)
    return unknown(f"{where}: {status or 'unexpected'} answer")

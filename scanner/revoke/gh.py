"""PyGithub for the revocation stage (secret sinks, notify issues): one client per token and
base URL, no retries behind our back, and GitHub errors turned into secret-free reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from scanner.registry import check_url

if TYPE_CHECKING:
    from github import Github

DEFAULT_API = "https://api.github.com"


def github_client(token: str, base_url: str | None, timeout: float) -> Github:
    """A PyGithub client; ``base_url`` defaults to api.github.com (GHE: https://HOST/api/v3)."""
    from github import Auth, Github

    base = (base_url or DEFAULT_API).rstrip("/")
    check_url(base, "GitHub API URL")
    return Github(
        auth=Auth.Token(token),
        base_url=base,
        timeout=int(max(1, timeout)),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


def describe(exc: BaseException) -> str:
    """Why a PyGithub call failed: status and GitHub's short message, never request data."""
    from github import GithubException

    if isinstance(exc, GithubException):
        data: Any = exc.data
        message = data.get("message") if isinstance(data, dict) else None
        text = f"GitHub {exc.status}"
        if isinstance(message, str) and message and len(message) <= 120:
            text += f" {message}"
        return text
    if isinstance(exc, requests.RequestException):
        from scanner.verify.http import transport_failure

        return f"GitHub: {transport_failure(exc, 0)}"
    if isinstance(exc, RuntimeError):  # PyGithub refuses a redirect to another host
        return "GitHub: redirect, not followed"
    return f"GitHub: {type(exc).__name__}"

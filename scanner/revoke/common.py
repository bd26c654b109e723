"""Helpers the backends share: secret-free reasons from API answers, bearer headers, and the
crash resolution of a rotation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from scanner.revoke.base import Context, Resolution, Target
from scanner.verify.http import Answer

# An error code or short summary that is safe to quote (no room for a token).
_QUOTABLE = re.compile(r"[A-Za-z0-9 _.:,'()/-]{1,80}")


def api_reason(where: str, answer: Answer) -> str:
    """'Okta 403 E0000006', 'Graph 404 Request_ResourceNotFound', 'timed out after 20s'."""
    if answer.failure:
        return f"{where}: {answer.failure}"
    code = api_error_code(answer.body)
    text = f"{where}: {answer.status}"
    if code:
        text += f" {code}"
    elif answer.kind == "html":
        text += " HTML page"
    if answer.status == 429 and answer.retry_after is not None:
        text += f" (Retry-After {answer.retry_after:g}s)"
    return text


def api_error_code(body: Any) -> str | None:
    """The error code of the usual JSON error shapes: OAuth ``error``, Auth0 ``errorCode``,
    Okta ``errorCode``, Graph ``error.code``, Keycloak ``error`` / ``errorMessage``."""
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    candidates = [
        body.get("errorCode"),
        error.get("code") if isinstance(error, Mapping) else error,
        body.get("errorMessage"),
    ]
    for value in candidates:
        if isinstance(value, str) and _QUOTABLE.fullmatch(value):
            return value
    return None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def resolve_rotation(target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
    """After a crash mid-rotation at an API that can rotate again (an admin API): the leaked
    secret still works -> redo; it is dead and the sink got the new one -> done; it is dead
    and the new one was lost -> rotate again."""
    verdict = ctx.check(target)
    if verdict.status == "live":
        return "redo", "the leaked secret still authenticates"
    if verdict.status == "dead":
        delivered = ctx.sink.delivered_since(since) if ctx.sink else None
        if delivered:
            return "done", "rotated before the interruption; the sink has the new secret"
        return "redo", "the leaked secret is dead but the sink has no new secret; rotating again"
    return "failed", f"cannot tell whether the rotation happened: {verdict.reason}"


def verdict_resolution(target: Target, ctx: Context) -> tuple[Resolution, str]:
    """After a crash mid-revocation: dead -> done, live -> redo, unknown -> failed."""
    verdict = ctx.check(target)
    if verdict.status == "dead":
        return "done", f"the leaked credential no longer authenticates ({verdict.reason})"
    if verdict.status == "live":
        return "redo", "the leaked credential still authenticates"
    return "failed", f"cannot tell whether it happened: {verdict.reason}"

"""``notify``: where no API can act (a GitHub OAuth app's client secret, say), open a GitHub
issue in the registry's ``notify_repo`` (else the repository the finding was found in) with
the redacted finding, where it was found and what to do. A hidden marker with the
fingerprint makes it idempotent: an issue that carries it already is reused, open or closed.
The token comes from ``github_token_env`` (default ``GITHUB_TOKEN``)."""

from __future__ import annotations

from typing import Any

from scanner.redact import redact
from scanner.revoke.base import Context, Resolution, Result, Target, done, failed
from scanner.revoke.gh import DEFAULT_API, describe, github_client

MAX_ISSUES_SEARCHED = 1000


class Notify:
    name = "notify"
    rotates = False
    kills = False

    def endpoint(self, target: Target) -> str:
        return f"GitHub issue in {_repo(target) or '(no repository)'}"

    def preflight(self, target: Target, ctx: Context) -> str | None:
        if not _repo(target):
            return "no notify_repo in the registry and the finding names no repository"
        env = _token_env(target)
        if not ctx.env(env):
            return f"{env} is not set"
        return None

    def act(self, target: Target, ctx: Context) -> Result:
        repo_name = _repo(target)
        token = ctx.env(_token_env(target))
        assert repo_name and token
        marker = issue_marker(target)
        base = ctx.options.endpoints.get("github") or DEFAULT_API
        try:
            ctx.http.wait_turn(base)
            repo: Any = github_client(token, base, ctx.options.timeout).get_repo(repo_name)
            for number, issue in enumerate(repo.get_issues(state="all")):
                if number >= MAX_ISSUES_SEARCHED:
                    break
                if marker in (issue.body or ""):
                    return done(
                        f"already notified: issue #{issue.number} in {repo_name}",
                        issue=str(issue.number),
                    )
            created = repo.create_issue(title=issue_title(target), body=issue_body(target))
        except Exception as exc:
            return failed(f"notify {repo_name}: {describe(exc)}")
        return done(
            f"opened issue #{created.number} in {repo_name}",
            issue=str(created.number),
            url=str(created.html_url or ""),
        )

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        return "redo", "notify is idempotent (fingerprint marker)"


def issue_marker(target: Target) -> str:
    return f"<!-- leakstop:fingerprint={target.fingerprint} -->"


def issue_title(target: Target) -> str:
    what = "private key" if target.finding.kind == "private-key" else "client secret"
    return f"Leaked live {what} of client {target.client.client_id}"


def issue_body(target: Target) -> str:
    f = target.finding
    o = f.origin
    where = o.path or "(commit message)"
    if f.line:
        where += f":{f.line}"
    if o.repository:
        where = f"{o.repository}: {where}"
    rows = [
        ("client", target.client.client_id),
        ("owner", target.client.owner or f.owner or "unknown"),
        ("rule", f.rule_id),
        ("secret", redact(f.secret, f.kind) if f.secret else "(redacted)"),
        ("found in", where),
        ("commit", o.commit or "-"),
        ("verdict", f"{f.verdict}: {f.verdict_reason or ''}".strip()),
        ("fingerprint", f.fingerprint),
    ]
    table = "\n".join(f"| {k} | `{_cell(v)}` |" for k, v in rows)
    return (
        f"leakstop found a **live** credential of client `{target.client.client_id}` where it "
        "should not be, and no API can revoke it automatically.\n\n"
        "| | |\n|---|---|\n"
        f"{table}\n\n"
        "**What to do**\n\n"
        "1. Create a new secret (or key) for the client in the provider's console, and deploy it.\n"
        "2. Delete the leaked one there, so it stops working.\n"
        "3. Remove it from the code and from the git history (it stays in every clone and fork: "
        "deleting it is no substitute for step 2).\n"
        "4. Close this issue.\n\n"
        f"{issue_marker(target)}\n"
    )


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _repo(target: Target) -> str | None:
    return target.client.notify_repo or target.finding.origin.repository


def _token_env(target: Target) -> str:
    return target.client.github_token_env or "GITHUB_TOKEN"

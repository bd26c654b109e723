"""The GitHub Action's entry point (``leakstop action``).

Reads the runner's environment and event payload, works out what to scan (a pull request's
commits, a push's new commits, or the whole history), scans it with ``leakstop scan``, and
writes what a workflow reads: a SARIF file (always, even empty), one annotation per finding, a
Markdown job summary, the step outputs ``findings`` and ``sarif``, and optionally a pull
request comment. Exit code by ``fail-on``: 0 clean, 1 findings that fail, 2 could not run.

Anything derived from scanned content that reaches the log is printed between
``::stop-commands::TOKEN`` and ``::TOKEN::`` (TOKEN random per run), so no file name or line
can act as a workflow command; annotations come after that block, each escaped onto one line.
Secrets are redacted everywhere: ``--show-secrets`` cannot be passed in.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from scanner.child import ChildScan, check_args
from scanner.errors import ConfigError, LeakstopError
from scanner.models import Finding, ScanResult, Summary
from scanner.redact import MARK, redact
from scanner.report.base import ReportOptions
from scanner.report.github import annotation, escape_data
from scanner.report.summary import DEFAULT_BUDGET, summary_markdown
from scanner.sources.gitsafe import invocation

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "jsonl", "sarif", "github")
FAIL_ON = ("any", "live", "never")
COMMENT_MARKER = "<!-- leakstop:pull-request-comment -->"
COMMENT_BUDGET = 60_000  # GitHub caps a comment at 65,536 characters
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_ZERO = re.compile(r"^0{40}(?:0{24})?$")
FETCH_DEPTH = (
    "the checkout lacks commit {sha} ({what}) or the history that leads to it; "
    "set `fetch-depth: 0` on actions/checkout so leakstop can see the {scope}'s commits"
)

# Scans the workspace, whole (None) or one commit range.
Scan = Callable[[Path, str | None], ScanResult]


class ActionError(ConfigError):
    """The Action cannot run: bad inputs, a missing event payload, a shallow checkout."""


@dataclass(frozen=True)
class Inputs:
    """The Action's inputs, which ``action.yml`` passes only as ``LEAKSTOP_*`` variables."""

    fmt: str = "text"
    sarif: Path = Path("leakstop.sarif")
    fail_on: str = "any"
    verify: bool = False
    registry: str | None = None
    baseline: str | None = None
    extra_args: tuple[str, ...] = ()
    comment: bool = False
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        fmt = env.get("LEAKSTOP_FORMAT", "").strip() or "text"
        if fmt not in FORMATS:
            raise ActionError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
        fail_on = env.get("LEAKSTOP_FAIL_ON", "").strip().lower() or "any"
        if fail_on not in FAIL_ON:
            raise ActionError(f"fail-on {fail_on!r}: choose one of {', '.join(FAIL_ON)}")
        try:
            extra = tuple(shlex.split(env.get("LEAKSTOP_EXTRA_ARGS", "")))
        except ValueError as exc:
            raise ActionError(f"extra-args: {exc}") from None
        try:
            check_args(extra)
        except LeakstopError as exc:
            raise ActionError(f"extra-args: {exc}") from None
        verify = _flag(env, "LEAKSTOP_VERIFY")
        if fail_on == "live" and not (verify or "--verify" in extra):
            raise ActionError(
                "fail-on: live needs verify: true (and a registry): unverified findings are "
                "never live, so the step could never fail"
            )
        sarif = env.get("LEAKSTOP_SARIF", "").strip()
        if not sarif:
            temp = env.get("RUNNER_TEMP", "").strip()
            sarif = str(Path(temp) / "leakstop.sarif") if temp else "leakstop.sarif"
        return cls(
            fmt=fmt,
            sarif=Path(sarif),
            fail_on=fail_on,
            verify=verify,
            registry=env.get("LEAKSTOP_REGISTRY", "").strip() or None,
            baseline=env.get("LEAKSTOP_BASELINE", "").strip() or None,
            extra_args=extra,
            comment=_flag(env, "LEAKSTOP_COMMENT"),
            token=env.get("LEAKSTOP_TOKEN") or None,
        )

    def scan_args(self) -> tuple[str, ...]:
        """Options for ``leakstop scan`` that the inputs ask for."""
        args: list[str] = []
        if self.verify:
            args.append("--verify")
        if self.registry:  # without verify: offline matching (owners), no network
            args += ["--registry", self.registry]
        if self.baseline:
            args += ["--baseline", self.baseline]
        return (*args, *self.extra_args)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "false", "0", "no", "off"):
        return False
    if value in ("true", "1", "yes", "on"):
        return True
    raise ActionError(f"{name}={value!r}: expected true or false")


@dataclass(frozen=True)
class Plan:
    """What this event asks to scan."""

    commit_range: str | None
    """``BASE..HEAD`` of full commit ids, or None for the whole repository."""
    scope: str
    """For people: what was scanned and why."""
    skip: str | None = None
    """Nothing to scan (a deleted branch); the reason."""


def run(
    env: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    scan: Scan | None = None,
) -> int:
    """The whole Action; returns the exit code."""
    env = os.environ if env is None else env
    out = out or sys.stdout
    try:
        inputs = Inputs.from_env(env)
        workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
        event = env.get("GITHUB_EVENT_NAME", "").strip()
        payload = load_payload(env.get("GITHUB_EVENT_PATH"), required=event != "")
        plan = plan_scan(event, payload, workspace)
    except LeakstopError as exc:
        return _fail(out, str(exc))
    scan = scan or ChildScan(inputs.scan_args(), capture_stderr=False)
    stop = secrets.token_hex(16)
    out.write(f"::stop-commands::{stop}\nleakstop: {plan.scope}\n")  # a ref name is data too
    out.flush()
    error: str | None = None
    result = ScanResult(findings=(), summary=Summary())
    try:
        if plan.skip is None:
            result = redacted(scan(workspace, plan.commit_range))
            if inputs.fmt != "github":
                _report(result, inputs.fmt, out)
    except LeakstopError as exc:
        error = str(exc)
    finally:
        out.flush()
        sys.stderr.flush()
        out.write(f"::{stop}::\n")
        out.flush()
    if error is not None:
        return _fail(out, f"the scan could not run: {error}")

    shown = ReportOptions(show_secrets=True)  # every secret already passed through `redacted`
    for finding in result.findings:
        out.write(annotation(finding, shown) + "\n")
    try:
        sarif = write_sarif(result, inputs.sarif)
        write_summary(env.get("GITHUB_STEP_SUMMARY"), result, plan, sarif)
        outputs = {"findings": str(len(result.findings)), "sarif": str(sarif)}
        write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    except OSError as exc:
        return _fail(out, f"cannot write the Action's files: {exc.strerror or exc}")
    if inputs.comment:
        _comment(out, env, payload, event, inputs, result, plan)
    code = exit_code(result, inputs.fail_on)
    n = len(result.findings)
    out.write(
        f"leakstop: {n} finding{'s' if n != 1 else ''}; SARIF in {sarif}; "
        f"fail-on {inputs.fail_on}: exit {code}\n"
    )
    return code


def exit_code(result: ScanResult, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_CLEAN
    if fail_on == "live":
        return EXIT_FINDINGS if any(f.verdict == "live" for f in result.findings) else EXIT_CLEAN
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


# --- what to scan -------------------------------------------------------------------------


def load_payload(path: str | None, *, required: bool) -> dict[str, Any]:
    if not path:
        if required:
            raise ActionError("GITHUB_EVENT_PATH is not set: run leakstop action inside a workflow")
        return {}
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ActionError(f"cannot read the event payload: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ActionError("the event payload is not JSON") from None
    if not isinstance(data, dict):
        raise ActionError("the event payload is not a JSON object")
    return data


def plan_scan(event: str, payload: Mapping[str, Any], workspace: Path) -> Plan:
    """pull_request: ``base.sha..head.sha``; push: ``before..after`` (a new branch: its
    commits not on the default branch); schedule, workflow_dispatch and anything else: the
    whole history."""
    if not _git_ok(workspace, "rev-parse", "--git-dir"):
        raise ActionError(
            f"{workspace} is not a git repository: run actions/checkout (with fetch-depth: 0) "
            "before leakstop"
        )
    if event in ("pull_request", "pull_request_target"):
        pr = _get(payload, "pull_request")
        base, head = _sha(_get(pr, "base", "sha")), _sha(_get(pr, "head", "sha"))
        return range_plan(workspace, base, head, f"pull request #{pr.get('number', '?')}")
    if event == "merge_group":
        group = _get(payload, "merge_group")
        base, head = _sha(_get(group, "base_sha")), _sha(_get(group, "head_sha"))
        return range_plan(workspace, base, head, "merge group")
    if event == "push":
        return _push_plan(payload, workspace)
    what = event or "no event"
    return Plan(None, f"{what}: the whole repository history")


def _push_plan(payload: Mapping[str, Any], workspace: Path) -> Plan:
    ref = str(payload.get("ref") or "?")
    if payload.get("deleted") or _ZERO.match(str(payload.get("after") or "")):
        return Plan(None, f"push deleting {ref}: nothing to scan", skip="deleted")
    after = _sha(_get(payload, "after"))
    before = str(payload.get("before") or "")
    if before and not _ZERO.match(before):
        before = _sha(before)
        if _has_commit(workspace, before) or _is_shallow(workspace):
            return range_plan(workspace, before, after, f"push to {ref}")
        # A force push: the old tip is gone. Scan what is not on the default branch.
    default = str(_get(payload, "repository").get("default_branch") or "")
    if not default or ref == f"refs/heads/{default}":
        if _is_shallow(workspace):
            raise ActionError(FETCH_DEPTH.format(sha=after[:12], what="the head", scope="push"))
        return Plan(None, f"push creating {ref}: the whole repository history")
    base = _rev_parse(workspace, f"refs/remotes/origin/{default}^{{commit}}")
    if base is None:
        if _is_shallow(workspace):
            raise ActionError(
                FETCH_DEPTH.format(sha=default, what="the default branch", scope="push")
            )
        return Plan(None, f"push to {ref}: origin/{default} not fetched; the whole history")
    return range_plan(workspace, base, after, f"new branch {ref}: commits not on {default}")


def range_plan(workspace: Path, base: str, head: str, label: str) -> Plan:
    """``base..head``, after checking that the checkout holds both ends and what lies
    between them (a shallow clone may not)."""
    shallow = _is_shallow(workspace)
    scope = label.split(" #")[0].split(":")[0]
    for sha, what in ((base, "the base"), (head, "the head")):
        if not _has_commit(workspace, sha):
            raise ActionError(FETCH_DEPTH.format(sha=sha[:12], what=what, scope=scope))
    if shallow and not _git_ok(workspace, "merge-base", base, head):
        raise ActionError(FETCH_DEPTH.format(sha=base[:12], what="the base", scope=scope))
    count = _git(workspace, "rev-list", "--count", f"{base}..{head}", "--").strip()
    return Plan(
        f"{base}..{head}",
        f"{label}: {count} commit{'s' if count != '1' else ''} in {base[:12]}..{head[:12]}",
    )


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            raise ActionError(f"the event payload has no {'.'.join(keys)}")
        value = value[key]
    return value


def _sha(value: Any) -> str:
    if not isinstance(value, str) or not _SHA.match(value):
        raise ActionError(f"the event payload names {str(value)[:80]!r}, not a commit id")
    return value


# --- git in the workspace -------------------------------------------------------------------


def _git(workspace: Path, *args: str) -> str:
    done = _run_git(workspace, args)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ActionError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout.decode("utf-8", "replace")


def _git_ok(workspace: Path, *args: str) -> bool:
    return _run_git(workspace, args).returncode == 0


def _run_git(workspace: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess[bytes]:
    """Read-only git in the checkout, hardened as every scan's git is (``gitsafe``): nothing
    the checkout's config names ever runs, and no transport starts (a partial clone's lazy
    fetch of a missing base commit included)."""
    argv, env = invocation(list(args), cwd=str(workspace))
    try:
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
        )
    except OSError as exc:
        raise ActionError(f"cannot run git: {exc.strerror or exc}") from None


def _has_commit(workspace: Path, sha: str) -> bool:
    return _git_ok(workspace, "cat-file", "-e", f"{sha}^{{commit}}")


def _is_shallow(workspace: Path) -> bool:
    done = _run_git(workspace, ("rev-parse", "--is-shallow-repository"))
    return done.returncode == 0 and done.stdout.strip() == b"true"


def _rev_parse(workspace: Path, name: str) -> str | None:
    done = _run_git(workspace, ("rev-parse", "--verify", "--quiet", name))
    sha = done.stdout.decode().strip()
    return sha if done.returncode == 0 and _SHA.match(sha) else None


# --- what the Action writes -------------------------------------------------------------------


def redacted(result: ScanResult) -> ScanResult:
    """Every secret in the form ``redact`` gives, whatever the child wrote: the gate that lets
    reporters print ``secret`` as it stands."""
    return replace(result, findings=tuple(_redacted(f) for f in result.findings))


def _redacted(f: Finding) -> Finding:
    head, mark, tail = f.secret.partition(MARK)
    if mark and not tail and len(head) <= 64 and "\n" not in head and "\\n" not in head:
        return f
    return replace(f, secret=redact(f.secret, f.kind))


def write_sarif(result: ScanResult, path: Path) -> Path:
    from scanner.report.sarif import write_sarif as write

    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        write(result, out, ReportOptions(show_secrets=True))
    tmp.replace(path)
    return path


def write_summary(path: str | None, result: ScanResult, plan: Plan, sarif: Path) -> None:
    """Append the Markdown summary, within what is left of the step's 1 MiB."""
    if not path:
        return
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    text = summary_markdown(
        result,
        scope=plan.scope,
        budget=max(0, DEFAULT_BUDGET - used),
        full_report=f"the SARIF file ({sarif.name}, step output `sarif`)",
    )
    with target.open("a", encoding="utf-8", newline="\n") as out:
        out.write(text)


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    """Step outputs in the multi-line form, each with its own random delimiter."""
    if not path:
        return
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _report(result: ScanResult, fmt: str, out: TextIO) -> None:
    from scanner.report import reporter

    reporter(fmt)(result, out, ReportOptions(show_secrets=True))


def _command(out: TextIO, level: str, message: str) -> None:
    out.write(f"::{level} title=leakstop::{escape_data(message)}\n")


def _fail(out: TextIO, message: str) -> int:
    _command(out, "error", f"leakstop: {message}")
    out.flush()
    return EXIT_ERROR


# --- the pull request comment ------------------------------------------------------------------


def _comment(
    out: TextIO,
    env: Mapping[str, str],
    payload: Mapping[str, Any],
    event: str,
    inputs: Inputs,
    result: ScanResult,
    plan: Plan,
) -> None:
    """Post or update (in place, found by a hidden marker) the pull request comment. Never
    fails the step: a problem is a notice."""
    if event not in ("pull_request", "pull_request_target"):
        return
    pr = payload.get("pull_request") or {}
    head_repo = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base_repo = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    if head_repo != base_repo:
        why = "the pull request comes from a fork, whose token cannot write"
        _command(out, "notice", f"no pull request comment: {why} (see the job summary)")
        return
    if not inputs.token:
        _command(out, "notice", "no pull request comment: no token (input `token`)")
        return
    body = COMMENT_MARKER + "\n" + summary_markdown(result, scope=plan.scope, budget=COMMENT_BUDGET)
    try:
        done = upsert_comment(
            api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
            token=inputs.token,
            repository=str(base_repo),
            number=int(pr.get("number") or payload.get("number") or 0),
            body=body,
            create=bool(result.findings),
        )
    except Exception as exc:  # a comment is a courtesy; the SARIF and exit code are the gate
        status = getattr(exc, "status", None)
        why = (
            "the token may not write to pull requests (permissions: pull-requests: write)"
            if status in (401, 403, 404)
            else type(exc).__name__
        )
        _command(out, "notice", f"no pull request comment: {why}")
        return
    if done:
        out.write(f"leakstop: pull request comment {done}\n")


def upsert_comment(
    *, api_url: str, token: str, repository: str, number: int, body: str, create: bool
) -> str | None:
    """Update our earlier comment, or create one when ``create``; returns what was done."""
    from github import Auth, Github

    gh = Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=30, lazy=True)
    try:
        issue = gh.get_repo(repository).get_issue(number)
        ours = [c for c in issue.get_comments() if COMMENT_MARKER in (c.body or "")]
        bots = [c for c in ours if c.user is not None and c.user.type == "Bot"]
        if bots or ours:
            (bots or ours)[-1].edit(body)
            return "updated"
        if create:
            issue.create_comment(body)
            return "created"
        return None
    finally:
        gh.close()

"""Carry out planned actions, one at a time, each between an audit ``intent`` line and its
``done`` / ``failed`` line, and re-verify the credential after it.

A rerun skips what the log shows done. An ``intent`` without an outcome (a crash mid-call) is
resolved first by asking the server (is the client still there, does the old secret still
authenticate, did the sink get the new secret) and the action is repeated only when that says
it did not happen.

Test hook: ``LEAKSTOP_TEST_CRASH_AFTER=intent`` (or ``=call``) makes the process exit at once
(``os._exit``) right after writing an ``intent`` line (or right after the call, before its
outcome is written). The crash-resume tests use it to kill a real process at those points;
it changes nothing else and is harmless in production, where nobody sets it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from scanner.models import Verdict
from scanner.registry import Registry
from scanner.revoke.audit import AuditLog, Entry
from scanner.revoke.base import ActionError, Context, Result, RevokeOptions
from scanner.revoke.plan import PlannedAction
from scanner.revoke.sinks import sink_for
from scanner.verify.base import VerifyOptions
from scanner.verify.http import HttpClient

CRASH_HOOK = "LEAKSTOP_TEST_CRASH_AFTER"
SCRUBBED = "[redacted]"
MIN_SENSITIVE = 6
OutcomeStatus = Literal["done", "failed", "skipped", "planned", "refused"]


@dataclass(frozen=True)
class ActionOutcome:
    """What became of one planned action. Every text here is secret-free."""

    planned: PlannedAction
    status: OutcomeStatus
    reason: str
    verdict: Verdict | None = None
    """The leaked credential's verdict after the action."""
    new_verdict: Verdict | None = None
    """A rotated secret's verdict (it must authenticate)."""


class Revoker:
    """Plans are checked and carried out against one registry, audit log and set of options."""

    def __init__(self, registry: Registry, audit: AuditLog, options: RevokeOptions) -> None:
        self.registry = registry
        self.audit = audit
        self.options = options
        self._sensitive: set[str] = set()
        self._http: HttpClient | None = None

    # -- secrets never leave -----------------------------------------------------------

    def sensitive(self, value: str | None) -> None:
        """Register a value that must never appear in output or in the audit log."""
        if value and len(value) >= MIN_SENSITIVE:
            self._sensitive.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self._sensitive, key=len, reverse=True):
            if value in text:
                text = text.replace(value, SCRUBBED)
        return text

    # -- checking ----------------------------------------------------------------------

    def review(self, planned: PlannedAction) -> ActionOutcome:
        """What a run would do with ``planned`` (no network, no state change)."""
        if planned.status == "skip":
            return ActionOutcome(planned, "skipped", planned.reason)
        last = self.audit.last(planned.key)
        if last is not None and last.phase == "done":
            return ActionOutcome(planned, "skipped", f"done already (audit log, {last.time})")
        if last is not None and _unresolved(last):
            return ActionOutcome(
                planned, "planned", f"interrupted at {last.time}: will ask the server first"
            )
        why = self._preflight(planned)
        if why:
            return ActionOutcome(planned, "refused", self.scrub(why))
        return ActionOutcome(planned, "planned", "")

    # -- acting ------------------------------------------------------------------------

    def carry_out(self, planned: PlannedAction) -> ActionOutcome:
        """Do one action (or skip it, or resolve an interrupted one), recorded in the log."""
        review = self.review(planned)
        if review.status == "skipped":
            return review
        assert planned.target is not None and planned.backend is not None
        target, backend = planned.target, planned.backend
        ctx = self._context(planned)
        self.sensitive(target.secret)

        last = self.audit.last(planned.key)
        if last is not None and _unresolved(last):
            try:
                resolution, why = backend.resolve(target, ctx, last.at)
            except ActionError as exc:
                resolution, why = "failed", f"cannot tell whether it happened: {exc}"
            if resolution != "redo":
                verdict = ctx.check(target)
                reason = self.scrub(f"resolved after an interruption: {why}")
                self._record(planned, resolution, {"reason": reason, **_verdict(verdict)})
                return ActionOutcome(planned, resolution, reason, verdict)

        refused = self._preflight(planned)
        if refused:
            reason = self.scrub(f"refused: {refused}")
            self._record(planned, "failed", {"reason": reason})
            return ActionOutcome(planned, "failed", reason)

        self._record(planned, "intent", {"endpoint": planned.endpoint})
        _crash_hook("intent")
        try:
            result = backend.act(target, ctx)
        except ActionError as exc:
            result = Result("failed", str(exc))
        except Exception as exc:  # a bug must not hide the log line: record it by type only
            result = Result("failed", f"internal error ({type(exc).__name__})")
        _crash_hook("call")
        return self._finish(planned, ctx, result)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _finish(self, planned: PlannedAction, ctx: Context, result: Result) -> ActionOutcome:
        assert planned.target is not None and planned.backend is not None
        target = planned.target
        verdict = ctx.check(target)
        new_verdict = ctx.check(target, result.new_secret) if result.new_secret else None
        status, reason = result.status, result.reason
        if status == "done" and planned.backend.kills and verdict.status == "live":
            status, reason = "failed", f"{reason}, but the leaked credential still authenticates"
        if status == "done" and new_verdict is not None and new_verdict.status == "dead":
            status, reason = "failed", f"{reason}, but the new secret does not authenticate"
        detail: dict[str, Any] = {"reason": reason, **dict(result.facts), **_verdict(verdict)}
        if status == "failed" and result.uncertain:
            detail["uncertain"] = True
        if new_verdict is not None:
            detail["new_secret_verdict"] = new_verdict.status
            detail["new_secret_verdict_reason"] = new_verdict.reason
        self._record(planned, status, detail)
        return ActionOutcome(planned, status, self.scrub(reason), verdict, new_verdict)

    def _preflight(self, planned: PlannedAction) -> str | None:
        assert planned.target is not None and planned.backend is not None
        ctx = self._context(planned)
        why = planned.backend.preflight(planned.target, ctx)
        if why:
            return why
        if planned.backend.rotates:
            if ctx.sink is None:
                return "rotation refused: the registry names no secret_sink for this client"
            return ctx.sink.check()
        return None

    def _context(self, planned: PlannedAction) -> Context:
        assert planned.target is not None
        if self._http is None:
            self._http = HttpClient(VerifyOptions(timeout=self.options.timeout, per_host_rate=0))
        ctx = Context(
            http=self._http, options=self.options, registry=self.registry, sensitive=self.sensitive
        )
        ctx.sink = sink_for(planned.target.client, ctx)
        return ctx

    def _record(self, planned: PlannedAction, phase: Any, detail: Mapping[str, Any]) -> Entry:
        clean = {k: self.scrub(v) if isinstance(v, str) else v for k, v in detail.items()}
        return self.audit.record(
            planned.fingerprint, planned.client_id, planned.action, phase, clean
        )


def _unresolved(last: Entry) -> bool:
    """An intent without an outcome, or a call that got no answer: it may have happened."""
    return last.phase == "intent" or (
        last.phase == "failed" and last.detail.get("uncertain") is True
    )


def _verdict(verdict: Verdict) -> dict[str, str]:
    return {"verdict": verdict.status, "verdict_reason": verdict.reason}


def _crash_hook(point: str, environ: Mapping[str, str] = os.environ) -> None:
    if environ.get(CRASH_HOOK) == point:
        os._exit(70)

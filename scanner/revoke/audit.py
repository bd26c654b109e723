"""The audit log: JSON lines ``{"time", "run", "fingerprint", "client_id", "action", "phase",
"detail"}``, one ``intent`` line before each state-changing call and one ``done`` / ``failed``
line after it, each written with a single ``write`` and fsync'd before the call goes out.

A run that acts holds an exclusive ``flock`` on the log for its whole life, so two runs with
the same log never act at once. Reading tolerates an unreadable line (a write torn by a
crash): a torn ``intent`` means the call never went out, a torn outcome leaves the ``intent``
without one, which the next run resolves by asking the server first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.revoke.base import Phase, RevokeError

PHASES = ("intent", "done", "failed")
Key = tuple[str, str, str]
"""(fingerprint, client_id, action): what one action is, across runs."""


@dataclass(frozen=True)
class Entry:
    """One line of the log."""

    time: str
    fingerprint: str
    client_id: str
    action: str
    phase: Phase
    detail: Mapping[str, Any] = field(default_factory=dict)
    run: str = ""

    @property
    def key(self) -> Key:
        return (self.fingerprint, self.client_id, self.action)

    @property
    def at(self) -> float:
        """The time as seconds since the epoch."""
        try:
            return datetime.fromisoformat(self.time.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0


class AuditLog:
    """An audit log opened to read (dry run) or to append (a run that acts)."""

    def __init__(self, path: Path, *, write: bool) -> None:
        self.path = path
        self.write = write
        self.run = uuid.uuid4().hex[:12]
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._last: dict[Key, Entry] = {}
        if write:
            self._open_locked()
        self._read()

    # -- reading -----------------------------------------------------------------------

    def last(self, key: Key) -> Entry | None:
        """The latest entry for an action, or None when the log never saw it."""
        return self._last.get(key)

    def entries(self) -> list[Entry]:
        return list(self._last.values())

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RevokeError(f"{self.path}: cannot read audit log: {exc.strerror}") from None
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            entry = _parse(raw)
            if entry is None:
                self.warnings.append(
                    f"{self.path}: line {number} is not an audit entry (a torn write?); ignored"
                )
                continue
            self._last[entry.key] = entry

    # -- writing -----------------------------------------------------------------------

    def record(
        self,
        fingerprint: str,
        client_id: str,
        action: str,
        phase: Phase,
        detail: Mapping[str, Any],
    ) -> Entry:
        """Append one line and fsync it before returning."""
        if self._fd is None:
            raise RevokeError("the audit log is open for reading only")
        entry = Entry(
            time=_now(),
            fingerprint=fingerprint,
            client_id=client_id,
            action=action,
            phase=phase,
            detail=dict(detail),
            run=self.run,
        )
        line = json.dumps(
            {
                "time": entry.time,
                "run": entry.run,
                "fingerprint": fingerprint,
                "client_id": client_id,
                "action": action,
                "phase": phase,
                "detail": entry.detail,
            },
            ensure_ascii=False,
            sort_keys=False,
        )
        _write_all(self._fd, (line + "\n").encode("utf-8"))
        os.fsync(self._fd)
        self._last[entry.key] = entry
        return entry

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_locked(self) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise RevokeError(f"{self.path}: cannot open audit log: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RevokeError(
                f"{self.path}: another leakstop revoke is using this audit log; wait for it"
            ) from None
        self._fd = fd
        # A crash may have left a torn last line: start ours on a line of its own.
        size = os.fstat(fd).st_size
        if size:
            with self.path.open("rb") as existing:
                existing.seek(size - 1)
                if existing.read(1) != b"\n":
                    _write_all(fd, b"\n")
                    os.fsync(fd)


def _parse(raw: bytes) -> Entry | None:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("phase") not in PHASES:
        return None
    fields = ("time", "fingerprint", "client_id", "action")
    if not all(isinstance(data.get(k), str) for k in fields):
        return None
    detail = data.get("detail")
    return Entry(
        time=data["time"],
        fingerprint=data["fingerprint"],
        client_id=data["client_id"],
        action=data["action"],
        phase=data["phase"],
        detail=detail if isinstance(detail, dict) else {"text": str(detail)},
        run=str(data.get("run") or ""),
    )


def _now() -> str:
    return (
        datetime.fromtimestamp(time.time(), UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

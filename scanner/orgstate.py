"""What earlier org scans covered, so the next one scans only what is new.

A local SQLite file records, per repository, the commit each branch and tag pointed at when it
was last scanned, and the scan profile (leakstop version and rules) it was scanned with. The
invariant: every commit reachable from a recorded tip has been scanned. So a later run scans,
per changed ref, ``old_tip..new_tip`` (a new ref: from the closest recorded tip), and nothing
for refs that did not move. A changed profile, a lost tip or ``--full`` means a full rescan.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from scanner.errors import LeakstopError

SCHEMA_VERSION = "1"
MAX_BASE_CANDIDATES = 32


class StateError(LeakstopError):
    """The state file cannot be opened or is not a leakstop state file."""


@dataclass(frozen=True)
class Scanned:
    """A repository's recorded tips and the profile they were scanned with."""

    tips: Mapping[str, str]
    profile: str


class OrgState:
    """The state file. Writes happen only through ``record``, one transaction per
    repository, so a crash never leaves a half-recorded repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"{path}: cannot use as org-scan state: {exc}") from None

    def __enter__(self) -> OrgState:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def scanned(self, api: str, repository: str) -> Scanned | None:
        """What was recorded for a repository, or None if it was never scanned."""
        key = repository.lower()
        row = self._db.execute(
            "SELECT profile FROM repositories WHERE api = ? AND repository = ?", (api, key)
        ).fetchone()
        if row is None:
            return None
        tips = dict(
            self._db.execute(
                "SELECT ref, sha FROM tips WHERE api = ? AND repository = ?", (api, key)
            ).fetchall()
        )
        return Scanned(tips=tips, profile=str(row[0]))

    def record(self, api: str, repository: str, tips: Mapping[str, str], profile: str) -> None:
        """Replace a repository's recorded tips: everything they reach has been scanned."""
        key = repository.lower()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM tips WHERE api = ? AND repository = ?", (api, key))
            self._db.executemany(
                "INSERT INTO tips (api, repository, ref, sha) VALUES (?, ?, ?, ?)",
                [(api, key, ref, sha) for ref, sha in sorted(tips.items())],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO repositories (api, repository, profile, scanned_at) "
                "VALUES (?, ?, ?, ?)",
                (api, key, profile, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise StateError(f"{self.path}: cannot record {repository}: {exc}") from None

    def _migrate(self) -> None:
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS repositories (
                api TEXT NOT NULL, repository TEXT NOT NULL, profile TEXT NOT NULL,
                scanned_at TEXT NOT NULL, PRIMARY KEY (api, repository));
            CREATE TABLE IF NOT EXISTS tips (
                api TEXT NOT NULL, repository TEXT NOT NULL, ref TEXT NOT NULL,
                sha TEXT NOT NULL, PRIMARY KEY (api, repository, ref));
            """
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )
        elif row[0] != SCHEMA_VERSION:
            raise StateError(
                f"{self.path}: state schema {row[0]} is not {SCHEMA_VERSION}; "
                "delete it (the next run scans everything)"
            )


@dataclass(frozen=True)
class Plan:
    """What to scan in one repository: everything, or only some ranges (maybe none)."""

    full: bool
    ranges: tuple[str, ...] = ()
    reason: str = ""

    @property
    def nothing(self) -> bool:
        return not self.full and not self.ranges


def plan_ranges(
    previous: Scanned | None,
    current: Mapping[str, str],
    *,
    profile: str,
    full: bool = False,
    default_ref: str | None = None,
    has_commit: Callable[[str], bool],
    distance: Callable[[str, str], int],
) -> Plan:
    """The ranges that cover every commit reachable from ``current`` tips and not from a
    recorded tip (a superset is fine, a gap never is)."""
    if full:
        return Plan(full=True, reason="--full")
    if previous is None:
        return Plan(full=True, reason="first scan")
    if previous.profile != profile:
        return Plan(full=True, reason="rules or leakstop version changed since the last scan")
    known = {ref: sha for ref, sha in previous.tips.items() if has_commit(sha)}
    known_tips = set(known.values())
    if not known_tips:
        return Plan(full=True, reason="no recorded tip is in the clone any more")
    ranges: list[str] = []
    for ref, tip in sorted(current.items()):
        if tip in known_tips:
            continue  # this commit, and all it reaches, was scanned before
        base = known.get(ref) or _closest_base(tip, known, default_ref, distance)
        if f"{base}..{tip}" not in ranges:
            ranges.append(f"{base}..{tip}")
    reason = f"{len(ranges)} ref{'s' if len(ranges) != 1 else ''} moved" if ranges else "unchanged"
    return Plan(full=False, ranges=tuple(ranges), reason=reason)


def _closest_base(
    tip: str,
    known: Mapping[str, str],
    default_ref: str | None,
    distance: Callable[[str, str], int],
) -> str:
    """For a new ref: the recorded tip with the fewest commits between it and ``tip``
    (usually the default branch it forked from). Any recorded tip is correct; the closest
    only saves rescanning."""
    candidates: list[str] = []
    if default_ref and default_ref in known:
        candidates.append(known[default_ref])
    for sha in sorted(set(known.values())):
        if sha not in candidates:
            candidates.append(sha)
    candidates = candidates[:MAX_BASE_CANDIDATES]
    return min(candidates, key=lambda base: (distance(base, tip), candidates.index(base)))

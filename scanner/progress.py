"""A one-line progress display on stderr (TTY only): blobs and MB done, MB/s, ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts work done and redraws at most ten times a second. Shows no content, ever."""

    def __init__(self, stream: TextIO | None = None, total_bytes: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total_bytes = total_bytes
        self.blobs = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    @classmethod
    def for_terminal(cls, enabled: bool = True) -> Progress | None:
        """A Progress when stderr is a terminal and the user did not turn it off, else None."""
        return cls() if enabled and sys.stderr.isatty() else None

    def add_total(self, size: int) -> None:
        """Grow the expected total as sources learn their size (one PATH after another)."""
        self.total_bytes = (self.total_bytes or 0) + size

    def advance(self, blobs: int, size: int) -> None:
        self.blobs += blobs
        self.bytes += size
        now = time.monotonic()
        if now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = self.bytes / elapsed / 1e6
        line = f"leakstop: {self.blobs} blobs, {self.bytes / 1e6:.1f} MB, {rate:.1f} MB/s"
        if self.total_bytes:
            share = min(1.0, self.bytes / self.total_bytes)
            bar = "#" * int(share * 20)
            eta = (self.total_bytes - self.bytes) / 1e6 / rate if rate > 0 else 0.0
            line = f"[{bar:<20}] {share:4.0%} " + line + f", ETA {eta:.0f}s"
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

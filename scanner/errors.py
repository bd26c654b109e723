"""One exception type per stage. The CLI turns each into one clear line and exit code 2;
messages name the file or ref at fault and never contain a secret."""

from __future__ import annotations


class LeakstopError(Exception):
    """Base of every error leakstop raises on purpose."""


class ConfigError(LeakstopError):
    """Bad arguments or settings: the run cannot start."""


class RuleError(LeakstopError):
    """A rule file or ruleset is malformed."""


class SourceError(LeakstopError):
    """A path, repository or artifact cannot be read at all."""


class ReportError(LeakstopError):
    """A report cannot be written or read."""

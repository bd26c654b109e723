"""Where a new secret goes: never to output, only to the sink the registry entry names.

* ``file:/abs/path``: an env-file created with ``O_CREAT | O_EXCL`` and mode 0600; an existing
  file is never overwritten (move it away after use). Lines: ``CLIENT_ID=``,
  ``CLIENT_SECRET=`` and, when an RFC 7592 update rotated it, the new registration access
  token under the variable name the registry gives (``registration_access_token_env``), so
  ``set -a; . FILE`` prepares the next run.
* ``github:owner/repo:NAME`` / ``github-org:org:NAME``: a GitHub Actions secret, encrypted by
  PyGithub with the repository's (organisation's) public key (libsodium sealed box, PyNaCl).
  The client secret is stored as ``NAME``; a rotated registration access token as the
  secret named by ``registration_access_token_env``. The GitHub token comes from
  ``github_token_env`` (default ``GITHUB_TOKEN``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from scanner.registry import SINK, Client
from scanner.revoke.base import ActionError, Context
from scanner.revoke.gh import describe, github_client

CLIENT_SECRET = "CLIENT_SECRET"  # noqa: S105 (a key name)
REGISTRATION_ACCESS_TOKEN = "REGISTRATION_ACCESS_TOKEN"  # noqa: S105 (a key name)
"""The keys of a new client secret and a new RFC 7592 registration access token in what a
backend delivers."""


class Sink(Protocol):
    name: str

    def check(self) -> str | None:
        """Why delivery cannot work, decided without any state change (or None)."""
        ...

    def deliver(self, values: Mapping[str, str]) -> None:
        """Store the values (raises ActionError with a secret-free reason)."""
        ...

    def delivered_since(self, since: float) -> bool | None:
        """Whether a delivery happened at or after ``since`` (None: cannot tell)."""
        ...


def sink_for(client: Client, ctx: Context) -> Sink | None:
    """The sink the registry names for ``client``, or None."""
    if not client.secret_sink:
        return None
    match = SINK.match(client.secret_sink)
    if match is None:  # the registry validates this; be safe anyway
        return None
    rat_name = client.registration_access_token_env
    if match["path"]:
        return FileSink(Path(match["path"]), client.client_id, rat_name)
    token_env = client.github_token_env or "GITHUB_TOKEN"
    if match["repo"]:
        return GitHubSecretSink("repo", match["repo"], match["name"], rat_name, token_env, ctx)
    return GitHubSecretSink("org", match["org"], match["org_name"], rat_name, token_env, ctx)


class FileSink:
    """A new 0600 env-file; never overwrites."""

    def __init__(self, path: Path, client_id: str, rat_name: str | None) -> None:
        self.path = path
        self.client_id = client_id
        self.rat_name = rat_name
        self.name = f"file:{path}"

    def check(self) -> str | None:
        if not self.path.is_absolute():
            return f"sink {self.name}: not an absolute path"
        if os.path.lexists(self.path):
            return f"sink {self.name} exists and is never overwritten (move it away first)"
        if not self.path.parent.is_dir():
            return f"sink {self.name}: directory {self.path.parent} does not exist"
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            return f"sink {self.name}: directory {self.path.parent} is not writable"
        return None

    def deliver(self, values: Mapping[str, str]) -> None:
        lines = [
            f"# written by leakstop revoke for client {self.client_id}",
            f"CLIENT_ID={_env_quote(self.client_id)}",
        ]
        for key, value in values.items():
            name = self.rat_name if key == REGISTRATION_ACCESS_TOKEN else key
            if name:
                lines.append(f"{name}={_env_quote(value)}")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileExistsError:
            raise ActionError(f"sink {self.name} exists and is never overwritten") from None
        except OSError as exc:
            raise ActionError(f"sink {self.name}: {exc.strerror or type(exc).__name__}") from None
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            raise ActionError(f"sink {self.name}: {exc.strerror or type(exc).__name__}") from None
        finally:
            os.close(fd)
        _fsync_dir(self.path.parent)

    def delivered_since(self, since: float) -> bool | None:
        try:
            return self.path.stat().st_mtime >= since - 1.0
        except FileNotFoundError:
            return False
        except OSError:
            return None


class GitHubSecretSink:
    """A GitHub Actions secret of a repository or organisation, through PyGithub."""

    def __init__(
        self,
        scope: str,
        owner: str,
        secret_name: str,
        rat_name: str | None,
        token_env: str,
        ctx: Context,
    ) -> None:
        self.scope = scope
        self.owner = owner
        self.secret_name = secret_name
        self.rat_name = rat_name
        self.token_env = token_env
        self.ctx = ctx
        self.name = f"github{'-org' if scope == 'org' else ''}:{owner}:{secret_name}"

    def check(self) -> str | None:
        if not self.ctx.env(self.token_env):
            return f"sink {self.name}: {self.token_env} is not set"
        return None

    def deliver(self, values: Mapping[str, str]) -> None:
        names = {
            key: (self.secret_name if key == CLIENT_SECRET else self.rat_name)
            for key in values
            if key == CLIENT_SECRET or (key == REGISTRATION_ACCESS_TOKEN and self.rat_name)
        }
        try:
            where = self._where()
            for key, name in names.items():
                assert name is not None
                if self.scope == "org":
                    where.create_secret(name, values[key], visibility="private")
                else:
                    where.create_secret(name, values[key])
        except Exception as exc:
            raise ActionError(f"sink {self.name}: {describe(exc)}") from None

    def delivered_since(self, since: float) -> bool | None:
        try:
            updated = self._where().get_secret(self.secret_name).updated_at
        except Exception:
            return None
        if not isinstance(updated, datetime):
            return None
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)
        return updated.timestamp() >= since - 1.0

    def _where(self) -> Any:
        token = self.ctx.env(self.token_env)
        if not token:
            raise ActionError(f"sink {self.name}: {self.token_env} is not set")
        client = github_client(token, self.ctx.options.endpoints.get("github"), 20.0)
        if self.scope == "org":
            return client.get_organization(self.owner)
        return client.get_repo(self.owner)


def _env_quote(value: str) -> str:
    """A value as one env-file word: single-quoted unless it is plain."""
    if value and all(c.isalnum() or c in "-_.~+/=:@" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

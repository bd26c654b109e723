"""GitHub as a source: list an organisation's repositories with PyGithub and keep a bare clone
of each in a cache directory, fetched incrementally on later runs.

The token reaches git only through git's environment configuration (``GIT_CONFIG_COUNT`` /
``GIT_CONFIG_KEY_n`` / ``GIT_CONFIG_VALUE_n`` carrying an ``http.<origin>.extraHeader`` scoped
to the clone URL's origin): never in a URL, a command line, a git config file or a message.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from scanner.errors import ConfigError, SourceError

DEFAULT_API_URL = "https://api.github.com"
# GitHub repository and owner names: no path separators, never "." or "..".
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


class GitHubError(SourceError):
    """The GitHub API or a clone failed; messages never contain the token."""


@dataclass(frozen=True)
class Repository:
    """One repository as the API lists it."""

    full_name: str
    clone_url: str
    default_branch: str | None = None
    fork: bool = False
    archived: bool = False


@dataclass(frozen=True)
class Shard:
    """``--shard I/N``: the I-th (1-based) of N disjoint parts that together cover all."""

    index: int = 1
    total: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ConfigError(f"--shard {text!r}: expected I/N, e.g. 1/4")
        index, total = int(match.group(1)), int(match.group(2))
        if total < 1 or not 1 <= index <= total:
            raise ConfigError(f"--shard {text}: I must be between 1 and N (shards count from 1)")
        return cls(index, total)

    def holds(self, full_name: str) -> bool:
        return shard_of(full_name, self.total) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def shard_of(full_name: str, total: int) -> int:
    """The shard (1-based) a repository belongs to: a hash of its lower-cased full name, so
    the split is the same on every runner and does not move when other repositories come
    and go."""
    digest = hashlib.sha256(full_name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def list_repositories(
    org: str,
    token: str,
    *,
    api_url: str = DEFAULT_API_URL,
    include_forks: bool = False,
    include_archived: bool = False,
    seconds_between_requests: float | None = 0.25,
) -> list[Repository]:
    """Every repository of ``org`` (or of a user of that name), sorted by full name; forks
    and archived repositories left out unless asked for. Rate limits are waited out
    (PyGithub's retry waits for ``X-RateLimit-Reset`` or ``Retry-After``)."""
    import requests
    from github import Auth, Github, GithubException, GithubRetry, UnknownObjectException

    if not _NAME.match(org):
        raise ConfigError(f"{org!r} is not a GitHub organisation or user name")
    check_api_url(api_url)
    gh = Github(
        auth=Auth.Token(token),
        base_url=api_url.rstrip("/"),
        per_page=100,
        retry=GithubRetry(max_rate_limit_wait=3600),
        seconds_between_requests=seconds_between_requests,
        timeout=60,
    )
    try:
        try:
            listing = gh.get_organization(org).get_repos(type="all")
            repos = list(listing)
        except UnknownObjectException:
            repos = list(gh.get_user(org).get_repos(type="owner"))
    except GithubException as exc:
        raise GitHubError(f"{api_url}: listing {org}: {_api_complaint(exc, token)}") from None
    except requests.RequestException as exc:
        raise GitHubError(
            f"{api_url}: listing {org}: {_scrub(type(exc).__name__ + ': ' + str(exc), token)}"
        ) from None
    finally:
        gh.close()
    found: dict[str, Repository] = {}
    for r in repos:
        repo = Repository(
            full_name=r.full_name,
            clone_url=r.clone_url,
            default_branch=r.default_branch,
            fork=bool(r.fork),
            archived=bool(r.archived),
        )
        if (repo.fork and not include_forks) or (repo.archived and not include_archived):
            continue
        found[repo.full_name.lower()] = repo
    return sorted(found.values(), key=lambda r: r.full_name.lower())


def check_api_url(api_url: str) -> None:
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"--api-url {api_url!r}: expected https://HOST[/api/v3]")
    if parts.username or parts.password:
        raise ConfigError("--api-url must not hold credentials; the token comes from GITHUB_TOKEN")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"--api-url {api_url!r}: plain http would send the token in clear")


def _api_complaint(exc: Exception, token: str) -> str:
    from github import GithubException

    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        if exc.status == 401:
            return "GitHub rejected the token (401 Bad credentials)"
        if exc.status == 404:
            return "no such organisation or user, or the token cannot see it (404)"
        return _scrub(f"{exc.status} {message or 'error'}", token)
    return _scrub(str(exc), token)


def _scrub(text: str, token: str) -> str:
    """Belt and braces: no message leaves this module with the token in it."""
    for form in (token, _basic(token)):
        if form:
            text = text.replace(form, "***")
    return text


@dataclass(frozen=True)
class BareCache:
    """Bare clones of repositories under ``root`` (``root/OWNER/NAME.git``)."""

    root: Path
    token: str = field(repr=False)
    timeout: float | None = None

    def path(self, repo: Repository) -> Path:
        owner, _, name = repo.full_name.partition("/")
        if not (_safe_name(owner) and _safe_name(name)):
            raise GitHubError(f"{repo.full_name!r}: not a repository name leakstop can store")
        return self.root / owner / f"{name}.git"

    def sync(self, repo: Repository) -> Path:
        """Clone ``repo`` bare into the cache, or fetch what is new (pruning deleted
        branches; objects of rewritten history are kept, so earlier tips stay readable)."""
        check_clone_url(repo.clone_url)
        dest = self.path(repo)
        if (dest / "HEAD").is_file():
            try:
                self._git(
                    [
                        "fetch",
                        "--quiet",
                        "--prune",
                        "--no-write-fetch-head",
                        repo.clone_url,
                        "+refs/heads/*:refs/heads/*",
                        "+refs/tags/*:refs/tags/*",
                    ],
                    repo.clone_url,
                    git_dir=dest,
                )
                return dest
            except GitHubError:
                if _is_repository(dest):
                    raise
                shutil.rmtree(dest, ignore_errors=True)  # a broken cache entry: clone anew
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            self._git(
                ["clone", "--bare", "--quiet", "--", repo.clone_url, str(tmp)], repo.clone_url
            )
            _git_local(["config", "gc.auto", "0"], tmp)
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest

    def _git(self, args: list[str], url: str, *, git_dir: Path | None = None) -> None:
        argv = ["git", *_fetch_hardening(url)]
        if git_dir is not None:
            argv.append(f"--git-dir={git_dir}")
        argv += args
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=git_environment(self.token, url),
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GitHubError(f"git {args[0]} of {url} timed out") from None
        except OSError as exc:
            raise GitHubError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            complaint = _last_line(done.stderr)
            raise GitHubError(_scrub(f"git {args[0]} of {url}: {complaint}", self.token))


def _safe_name(name: str) -> bool:
    return bool(_NAME.match(name)) and name not in (".", "..")


def check_clone_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GitHubError(f"{url!r}: not an http(s) clone URL")
    if parts.username or parts.password or "@" in parts.netloc:
        raise GitHubError("clone URL carries credentials; refusing to use it")


def git_environment(token: str, url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a git clone/fetch of ``url``: our environment without other GIT_*
    settings, plus the token as an ``Authorization`` header that git sends only to the URL's
    origin. Nothing here reaches a command line or a file."""
    source = os.environ if base is None else base
    env = {
        k: v
        for k, v in source.items()
        if (not k.startswith("GIT_") or k == "GIT_EXEC_PATH")
        and k not in ("SSH_ASKPASS", "GITHUB_TOKEN", "GH_TOKEN", "LEAKSTOP_TOKEN")
    }
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    config = [
        (f"http.{origin}.extraHeader", f"Authorization: Basic {_basic(token)}"),
    ]
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_ASKPASS": "",
            "GCM_INTERACTIVE": "never",
            "LC_ALL": "C",
        }
    )
    return env


def _basic(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii") if token else ""


def _fetch_hardening(url: str) -> list[str]:
    """``-c`` options for a clone or fetch: only the URL's own scheme, no redirects (a custom
    header would follow one), no credential helpers that could store anything, no hooks."""
    scheme = urlsplit(url).scheme
    pairs = [
        ("protocol.allow", "never"),
        (f"protocol.{scheme}.allow", "always"),
        ("http.followRedirects", "false"),
        ("credential.helper", ""),
        ("core.askPass", ""),
        ("core.hooksPath", "/dev/null"),
        ("core.fsmonitor", "false"),
        ("gc.auto", "0"),
        ("maintenance.auto", "false"),
        ("fetch.recurseSubmodules", "false"),
        ("transfer.fsckObjects", "false"),
    ]
    argv: list[str] = []
    for key, value in pairs:
        argv += ["-c", f"{key}={value}"]
    return argv


def ref_tips(git_dir: Path) -> dict[str, str]:
    """Branch and tag tips of a bare clone, tags peeled to their commit; refs that do not
    name a commit are left out."""
    out = _git_local(
        [
            "for-each-ref",
            "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)",
            "refs/heads",
            "refs/tags",
        ],
        git_dir,
    )
    tips: dict[str, str] = {}
    for line in out.splitlines():
        name, kind, sha, peeled_kind, peeled = (line.split("\0") + [""] * 5)[:5]
        if kind == "commit" and _SHA.match(sha):
            tips[name] = sha
        elif kind == "tag" and peeled_kind == "commit" and _SHA.match(peeled):
            tips[name] = peeled
    return tips


def has_commit(git_dir: Path, sha: str) -> bool:
    if not _SHA.match(sha):
        return False
    try:
        _git_local(["cat-file", "-e", f"{sha}^{{commit}}"], git_dir)
    except GitHubError:
        return False
    return True


def commits_between(git_dir: Path, base: str, tip: str) -> int:
    """How many commits ``base..tip`` holds (to pick the closest already-scanned base)."""
    return int(_git_local(["rev-list", "--count", f"{base}..{tip}", "--"], git_dir).strip() or 0)


def _git_local(args: list[str], git_dir: Path) -> str:
    """A git command on our own bare clone: no network, no hooks, no token."""
    argv = [
        "git",
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "protocol.allow=never",
        "-c", "safe.directory=*",
        "--no-pager",
        f"--git-dir={git_dir}",
        *args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k == "GIT_EXEC_PATH"}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise GitHubError(f"git {args[0]} in {git_dir}: {_last_line(done.stderr)}")
    return done.stdout.decode("utf-8", "replace")


def _is_repository(path: Path) -> bool:
    try:
        _git_local(["rev-parse", "--git-dir"], path)
    except GitHubError:
        return False
    return True


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    for line in reversed(lines):
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else "failed"

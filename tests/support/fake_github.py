"""A loopback fake of the GitHub REST API and of GitHub's git hosting, for tests.

The API speaks GitHub's own JSON for what leakstop uses: an organisation and its repositories
(paginated with ``Link`` headers), a user's repositories, a repository, an issue and its
comments. Every response carries the ``X-RateLimit-*`` headers; ``rate_limit_next`` makes the
next API call fail the way GitHub does when the limit is spent (403, ``API rate limit
exceeded``, reset a second later). Every call needs the token (``Authorization: token T`` or
``Bearer T``); git needs it as HTTP basic auth, as GitHub takes it (any user name).

Clones are served by ``git http-backend`` (CGI) from bare repositories under
``root/git/OWNER/NAME.git``. While git talks to it, the server looks at every process's
command line for the token and records any hit in ``cmdline_leaks``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRepo:
    owner: str
    name: str
    fork: bool = False
    archived: bool = False
    private: bool = False
    default_branch: str = "main"
    id: int = 0


@dataclass
class Comment:
    id: int
    body: str
    login: str = "github-actions[bot]"
    type: str = "Bot"


@dataclass
class FakeGitHub:
    root: Path
    token: str = field(repr=False)
    max_per_page: int = 100
    repos: list[FakeRepo] = field(default_factory=list)
    comments: dict[tuple[str, int], list[Comment]] = field(default_factory=dict)
    api_calls: list[tuple[str, str]] = field(default_factory=list)
    git_calls: list[tuple[str, str, bool]] = field(default_factory=list)
    cmdline_leaks: list[str] = field(default_factory=list)
    rate_limit_next: bool = False
    rate_limited: int = 0
    forbid_comments: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _server: ThreadingHTTPServer | None = None

    # --- set-up -----------------------------------------------------------------------------

    @property
    def git_root(self) -> Path:
        return self.root / "git"

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v3"

    def add_repo(self, owner: str, name: str, source: Path | None = None, **kw: Any) -> Path:
        """A repository on the fake; its content is a bare clone of ``source`` (a work tree)."""
        repo = FakeRepo(owner, name, id=next(self._ids), **kw)
        self.repos.append(repo)
        bare = self.bare(owner, name)
        bare.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        else:
            subprocess.run(["git", "clone", "-q", "--bare", str(source), str(bare)], check=True)
        return bare

    def bare(self, owner: str, name: str) -> Path:
        return self.git_root / owner / f"{name}.git"

    def start(self) -> FakeGitHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- GitHub's JSON ------------------------------------------------------------------------

    def repo_json(self, r: FakeRepo) -> dict[str, Any]:
        full = f"{r.owner}/{r.name}"
        api = f"{self.api_url}/repos/{full}"
        return {
            "id": r.id,
            "node_id": f"R_{r.id}",
            "name": r.name,
            "full_name": full,
            "private": r.private,
            "owner": self.owner_json(r.owner),
            "html_url": f"{self.url}/{full}",
            "description": None,
            "fork": r.fork,
            "url": api,
            "clone_url": f"{self.url}/git/{full}.git",
            "git_url": f"git://127.0.0.1/{full}.git",
            "ssh_url": f"git@127.0.0.1:{full}.git",
            "default_branch": r.default_branch,
            "archived": r.archived,
            "disabled": False,
            "visibility": "private" if r.private else "public",
            "size": 1,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-02T00:00:00Z",
            "pushed_at": "2024-01-02T00:00:00Z",
            "permissions": {"admin": False, "push": True, "pull": True},
        }

    def owner_json(self, login: str) -> dict[str, Any]:
        kind = "User" if login.startswith("user-") else "Organization"  # the fake's convention
        return {
            "login": login,
            "id": abs(hash(login)) % 10_000_000,
            "url": f"{self.api_url}/{'users' if kind == 'User' else 'orgs'}/{login}",
            "type": kind,
        }

    def comment_json(self, full: str, c: Comment) -> dict[str, Any]:
        return {
            "id": c.id,
            "node_id": f"IC_{c.id}",
            "url": f"{self.api_url}/repos/{full}/issues/comments/{c.id}",
            "body": c.body,
            "user": {"login": c.login, "id": 41898282, "type": c.type},
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        remaining = 5000

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PATCH(self) -> None:
            self._dispatch("PATCH")

        # --- plumbing ---------------------------------------------------------------------

        def _dispatch(self, method: str) -> None:
            body = self._body()
            parts = urlsplit(self.path)
            if parts.path.startswith("/git/"):
                self._git(method, parts.path[len("/git") :], parts.query, body)
                return
            if not parts.path.startswith("/api/v3/"):
                self._json(404, {"message": "Not Found"})
                return
            path = parts.path[len("/api/v3") :]
            gh.api_calls.append((method, path))
            if not self._api_authorized():
                self._json(401, {"message": "Bad credentials",
                                 "documentation_url": "https://docs.github.com/rest"})  # fmt: skip
                return
            if gh.rate_limit_next:
                gh.rate_limit_next = False
                gh.rate_limited += 1
                self._json(
                    403,
                    {"message": "API rate limit exceeded for installation ID 1.",
                     "documentation_url": "https://docs.github.com/rest/rate-limit"},
                    remaining=0,
                    reset=int(time.time()) + 1,
                )  # fmt: skip
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            self._api(method, path, query, body)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _api_authorized(self) -> bool:
            value = self.headers.get("Authorization", "")
            return value in (f"token {gh.token}", f"Bearer {gh.token}")

        def _json(
            self,
            status: int,
            data: Any,
            *,
            link: str | None = None,
            remaining: int | None = None,
            reset: int | None = None,
        ) -> None:
            payload = json.dumps(data).encode()
            Handler.remaining = max(0, Handler.remaining - 1)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-RateLimit-Limit", "5000")
            self.send_header(
                "X-RateLimit-Remaining", str(Handler.remaining if remaining is None else remaining)
            )
            self.send_header("X-RateLimit-Reset", str(reset or int(time.time()) + 3600))
            self.send_header("X-RateLimit-Used", str(5000 - Handler.remaining))
            self.send_header("X-RateLimit-Resource", "core")
            self.send_header("X-GitHub-Api-Version", "2022-11-28")
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(payload)

        # --- the REST API -----------------------------------------------------------------

        def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
            m = re.fullmatch(r"/(orgs|users)/([^/]+)", path)
            if m and method == "GET":
                kind, login = m.groups()
                owned = [r for r in gh.repos if r.owner == login]
                is_user = login.startswith("user-")
                if not owned or (kind == "orgs") == is_user:
                    self._json(404, {"message": "Not Found"})
                    return
                self._json(200, gh.owner_json(login))
                return
            m = re.fullmatch(r"/(orgs|users)/([^/]+)/repos", path)
            if m and method == "GET":
                login = m.group(2)
                listed = [gh.repo_json(r) for r in gh.repos if r.owner == login]
                self._page(path, listed, query)
                return
            m = re.fullmatch(r"/repos/([^/]+)/([^/]+)", path)
            if m and method == "GET":
                repo = self._repo(*m.groups())
                if repo:
                    self._json(200, gh.repo_json(repo))
                return
            m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)", path)
            if m and method == "GET":
                full, number = f"{m.group(1)}/{m.group(2)}", int(m.group(3))
                self._json(200, {"id": number, "number": number, "title": "PR",
                                 "url": f"{gh.api_url}/repos/{full}/issues/{number}",
                                 "pull_request": {"url": "x"}, "state": "open"})  # fmt: skip
                return
            m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", path)
            if m:
                full, number = f"{m.group(1)}/{m.group(2)}", int(m.group(3))
                thread = gh.comments.setdefault((full, number), [])
                if method == "GET":
                    self._page(path, [gh.comment_json(full, c) for c in thread], query)
                    return
                if method == "POST":
                    if gh.forbid_comments:
                        self._json(403, {"message": "Resource not accessible by integration"})
                        return
                    c = Comment(next(gh._ids), json.loads(body)["body"])
                    thread.append(c)
                    self._json(201, gh.comment_json(full, c))
                    return
            m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)", path)
            if m and method == "PATCH":
                full, cid = f"{m.group(1)}/{m.group(2)}", int(m.group(3))
                for (f, _), thread in gh.comments.items():
                    for c in thread:
                        if f == full and c.id == cid:
                            c.body = json.loads(body)["body"]
                            self._json(200, gh.comment_json(full, c))
                            return
            self._json(404, {"message": "Not Found"})

        def _repo(self, owner: str, name: str) -> FakeRepo | None:
            for r in gh.repos:
                if r.owner == owner and r.name == name:
                    return r
            self._json(404, {"message": "Not Found"})
            return None

        def _page(self, path: str, items: list[Any], query: dict[str, str]) -> None:
            per_page = min(int(query.get("per_page", 30)), gh.max_per_page)
            page = int(query.get("page", 1))
            last = max(1, -(-len(items) // per_page))
            chunk = items[(page - 1) * per_page : page * per_page]
            links = []
            base = f"{gh.api_url}{path}?per_page={per_page}"
            for kw, p in (("type", query.get("type")),):
                if p:
                    base += f"&{kw}={p}"
            if page < last:
                links.append(f'<{base}&page={page + 1}>; rel="next"')
                links.append(f'<{base}&page={last}>; rel="last"')
            if page > 1:
                links.append(f'<{base}&page={page - 1}>; rel="prev"')
                links.append(f'<{base}&page=1>; rel="first"')
            self._json(200, chunk, link=", ".join(links) or None)

        # --- git over smart HTTP ---------------------------------------------------------

        def _git(self, method: str, path_info: str, query: str, body: bytes) -> None:
            authorized = self._git_authorized()
            gh.git_calls.append((method, path_info, authorized))
            self._look_for_token_in_command_lines()
            if not authorized:
                payload = b"Authentication required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(gh.git_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path_info,
                "REQUEST_METHOD": method,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": "x-access-token",
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_CONFIG_NOSYSTEM": "1",
                "HOME": str(gh.root),
            }
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            done = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            )
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = done.stdout.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _git_authorized(self) -> bool:
            value = self.headers.get("Authorization", "")
            if not value.startswith("Basic "):
                return False
            try:
                _user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            except ValueError:
                return False
            return password == gh.token

        def _look_for_token_in_command_lines(self) -> None:
            forms = [gh.token.encode(), base64.b64encode(f"x-access-token:{gh.token}".encode())]
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                except OSError:
                    continue
                if any(form in cmdline for form in forms):
                    gh.cmdline_leaks.append(cmdline.replace(b"\0", b" ").decode("utf-8", "replace"))

    return Handler

"""The git part of the accuracy corpus: a repository whose history holds the cases a history
scanner must get right (issue 3), each labelled with the commit that introduced the value.

Cases: a secret added then removed; one only in a deleted file; one in a renamed file (found at
its first path and commit); one only on an unmerged branch; one reachable only from a tag; one
in a commit message; one introduced by a merge; one in an unreachable object (after a reset,
reflog expired); one in an untracked file; plus decoys committed to history. Author, committer
and dates are fixed, so the same seed gives the same commit ids.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from benchmarks.accuracy import corpus as c
from benchmarks.accuracy import formats

ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Corpus Author",
    "GIT_AUTHOR_EMAIL": "author@corpus.invalid",
    "GIT_COMMITTER_NAME": "Corpus Author",
    "GIT_COMMITTER_EMAIL": "author@corpus.invalid",
}


class Repo:
    """A scratch repository driven through the git CLI with a fixed identity and clock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = 1_700_000_000
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        self.clock += 60
        env = {**os.environ, **ENV}
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{self.clock} +0000"
        done = subprocess.run(
            ["git", "-C", str(self.root), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")

    def commit(self, message: str, *paths: str) -> str:
        self.git("add", "--all", *paths)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def blob(self, commit: str, path: str) -> str:
        return self.git("rev-parse", f"{commit}:{path}")


def build(root: Path, corpus: c.Corpus, start_id: int) -> list[c.Label]:
    """Create the repository at ``root``; returns its labels."""
    repo = Repo(root)
    labels: list[c.Label] = []

    def label(mark: c.Mark, path: str, text: str, commit: str | None, blob: str | None) -> None:
        f = c.File(path, text, [mark])
        labels.append(
            c.resolve(mark, f, "history", start_id + len(labels), commit=commit, blob=blob)
        )

    def case(provider: str, fmt: str, style: str, category: str) -> tuple[str, c.Mark]:
        creds = corpus.values.credential_set(provider)
        _, text = formats.render(fmt, style, creds, corpus.rng)
        return text, c.secret_mark(creds, fmt, category, category.replace("-", " "))

    def provider() -> str:
        return corpus.rng.choice([p for p in c.PROVIDERS if p != "github-token"])

    repo.write("README.md", "# orders\n")
    repo.commit("Initial commit")
    for r in range(corpus.repeat):
        # Still in HEAD: reported once, at the commit that introduced it.
        text, mark = case(provider(), "yaml", "nested", "history-head")
        path = f"r{r}/config/application.yml"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: application config")
        label(mark, path, text, commit, repo.blob(commit, path))
        # Added, then replaced by an environment lookup.
        text, mark = case(provider(), "python", "flat", "added-then-removed")
        path = f"r{r}/app/settings.py"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: settings")
        label(mark, path, text, commit, repo.blob(commit, path))
        repo.write(path, 'import os\nCLIENT_SECRET = os.environ["CLIENT_SECRET"]\n')
        repo.commit(f"r{r}: read the secret from the environment")
        # Only in a file deleted later.
        text, mark = case(provider(), "env", "flat", "deleted-file")
        path = f"r{r}/old/credentials.env"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: credentials for staging")
        label(mark, path, text, commit, repo.blob(commit, path))
        repo.git("rm", "-q", path)
        repo.commit(f"r{r}: remove staging credentials")
        # Renamed: found at its first path and commit.
        text, mark = case(provider(), "properties", "flat", "renamed-file")
        path, moved = f"r{r}/conf/app.properties", f"r{r}/config/app.properties"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: properties")
        label(mark, path, text, commit, repo.blob(commit, path))
        (repo.root / moved).parent.mkdir(parents=True, exist_ok=True)
        repo.git("mv", path, moved)
        repo.commit(f"r{r}: move properties")
        # A commit message.
        secret = "GOCSPX-" + corpus.values.s("b64u", 28)
        message = f"r{r}: rotate the OAuth client\n\nThe old secret was {secret}, revoked."
        repo.write(f"r{r}/ROTATION.md", "rotated\n")
        commit = repo.commit(message)
        mark = c.Mark(
            secret,
            "client-secret",
            "google",
            c.POSITIVE,
            "commit-message",
            "text",
            "google-oauth-client-secret",
            "secret in a commit message",
        )
        labels.append(
            c.resolve(
                mark,
                c.File("", message, [mark]),
                "history",
                start_id + len(labels),
                commit=commit,
                blob=None,
            )
        )
        labels[-1] = _without_path(labels[-1])
        # Decoys committed to history: a test fixture, a documented placeholder.
        text, mark = case(provider(), "python", "flat", "test-fixture")
        path = f"r{r}/tests/fake_oauth_settings.py"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: test fixtures")
        label(_decoy(mark), path, text, commit, repo.blob(commit, path))
        doc = "Set `CLIENT_SECRET=<your-client-secret>` in `.env`.\n"
        repo.write(f"r{r}/docs/setup.md", doc)
        commit = repo.commit(f"r{r}: setup docs")
        anchor = c.Mark(
            "<your-client-secret>",
            "client-secret",
            "generic",
            c.DECOY,
            "doc-example",
            "markdown",
            note="placeholder in history",
        )
        label(anchor, f"r{r}/docs/setup.md", doc, commit, repo.blob(commit, f"r{r}/docs/setup.md"))
        # Only on a branch never merged.
        repo.git("checkout", "-q", "-b", f"feature/r{r}-sso")
        text, mark = case(provider(), "env", "flat", "unmerged-branch")
        path = f"r{r}/sso.env"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: try SSO")
        label(mark, path, text, commit, repo.blob(commit, path))
        repo.git("checkout", "-q", "main")
        # Reachable only from a tag.
        repo.git("checkout", "-q", "-b", f"release/r{r}")
        text, mark = case(provider(), "json", "flat", "tag-only")
        path = f"r{r}/release.json"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: release config")
        label(mark, path, text, commit, repo.blob(commit, path))
        repo.git("tag", "-a", f"v0.{r}.0-rc", "-m", "release candidate")
        repo.git("checkout", "-q", "main")
        repo.git("branch", "-q", "-D", f"release/r{r}")
        # Introduced by a merge: the resolution writes a value neither side had.
        base = f"r{r}/merge/config.env"
        repo.write(base, "CLIENT_ID=orders\nCLIENT_SECRET=\n")
        repo.commit(f"r{r}: merge base")
        repo.git("checkout", "-q", "-b", f"topic/r{r}")
        repo.write(base, "CLIENT_ID=orders\nCLIENT_SECRET=from-topic\n")
        repo.commit(f"r{r}: topic side")
        repo.git("checkout", "-q", "main")
        repo.write(base, "CLIENT_ID=orders\nCLIENT_SECRET=from-main\n")
        repo.commit(f"r{r}: main side")
        subprocess_merge(repo, f"topic/r{r}")
        secret = corpus.values.generic_secret()
        text = f"CLIENT_ID=orders\nCLIENT_SECRET={secret}\n"
        repo.write(base, text)
        commit = repo.commit(f"r{r}: merge topic")
        mark = c.generic_mark(secret, "env", "merge-commit", "value written by a merge")
        label(mark, base, text, commit, repo.blob(commit, base))
        # An unreachable object: committed, then reset away and the reflog expired.
        text, mark = case(provider(), "env", "flat", "unreachable")
        path = f"r{r}/oops.env"
        repo.write(path, text)
        commit = repo.commit(f"r{r}: oops")
        blob = repo.blob(commit, path)
        repo.git("reset", "-q", "--hard", "HEAD~1")
        labels.append(
            _without_path(
                c.resolve(
                    mark,
                    c.File(path, text, [mark]),
                    "history",
                    start_id + len(labels),
                    commit=None,
                    blob=blob,
                )
            )
        )
    repo.git("reflog", "expire", "--expire=now", "--all")
    # An untracked file in the work tree.
    text, mark = case(provider(), "env", "flat", "untracked-file")
    repo.write("local.env", text)
    label(mark, "local.env", text, None, None)
    return labels


def subprocess_merge(repo: Repo, branch: str) -> None:
    """Start a merge that conflicts; the caller writes the resolution and commits."""
    with contextlib.suppress(subprocess.CalledProcessError):  # the conflict is the point
        repo.git("merge", "-q", "--no-ff", "--no-commit", branch)


def _decoy(mark: c.Mark) -> c.Mark:
    from dataclasses import replace

    return replace(mark, expected=c.DECOY)


def _without_path(label: c.Label) -> c.Label:
    """A commit message or an unreachable blob has no path; only its line is known."""
    from dataclasses import replace

    return replace(label, path=None)


__all__: Sequence[str] = ("build",)

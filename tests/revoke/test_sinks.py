"""Sinks: a 0600 file created exclusively (never overwritten, never through a symlink), and
GitHub Actions secrets of a repository or organisation, sealed for the owner's public key."""

from __future__ import annotations

import os
import secrets
import time

import pytest

from scanner.registry import Client
from scanner.revoke.base import ActionError, Context, RevokeOptions
from scanner.revoke.sinks import (
    CLIENT_SECRET,
    REGISTRATION_ACCESS_TOKEN,
    FileSink,
    GitHubSecretSink,
    sink_for,
)
from scanner.verify.http import HttpClient
from tests.support.fake_providers import FakeGitHub


def context(environ=None, endpoints=None) -> Context:
    from scanner.registry import Registry

    options = RevokeOptions(environ=environ or {}, endpoints=endpoints or {})
    return Context(http=HttpClient(), options=options, registry=Registry())


def test_file_sink_is_0600_even_with_a_permissive_umask(tmp_path):
    sink = FileSink(tmp_path / "new.env", "orders", "ORDERS_RAT")
    assert sink.check() is None
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    before = time.time()
    old_umask = os.umask(0)
    try:
        sink.deliver({CLIENT_SECRET: secret, REGISTRATION_ACCESS_TOKEN: token})
    finally:
        os.umask(old_umask)
    path = tmp_path / "new.env"
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text().splitlines()
    assert lines[1:] == ["CLIENT_ID=orders", f"CLIENT_SECRET={secret}", f"ORDERS_RAT={token}"]
    assert sink.delivered_since(before) is True
    assert "exists and is never overwritten" in (sink.check() or "")
    with pytest.raises(ActionError, match="never overwritten"):
        sink.deliver({CLIENT_SECRET: "x" * 20})
    assert path.read_text().splitlines()[2] == f"CLIENT_SECRET={secret}"


def test_file_sink_never_follows_a_symlink(tmp_path):
    target = tmp_path / "target"
    os.symlink(target, tmp_path / "new.env")
    sink = FileSink(tmp_path / "new.env", "orders", None)
    assert "exists" in (sink.check() or "")
    with pytest.raises(ActionError):
        sink.deliver({CLIENT_SECRET: "x" * 20})
    assert not target.exists()


def test_file_sink_quotes_values_for_a_shell(tmp_path):
    sink = FileSink(tmp_path / "s.env", "a b", None)
    sink.deliver({CLIENT_SECRET: "it's $HOME"})
    text = (tmp_path / "s.env").read_text()
    assert "CLIENT_ID='a b'" in text and "CLIENT_SECRET='it'\\''s $HOME'" in text


def test_file_sink_needs_an_existing_directory(tmp_path):
    assert "does not exist" in (FileSink(tmp_path / "no" / "s.env", "c", None).check() or "")


@pytest.mark.parametrize(
    ("sink", "owner_key"),
    [("github:acme/app:APP_SECRET", "repos/acme/app"), ("github-org:acme:APP_SECRET", "orgs/acme")],
)
def test_github_sinks(tmp_path, fakes, sink, owner_key):
    fake = fakes(FakeGitHub())
    ctx = context({"GH": fake.admin_token}, {"github": fake.url})
    client = Client(
        client_id="c",
        secret_sink=sink,
        github_token_env="GH",
        registration_access_token_env="C_RAT",
    )
    made = sink_for(client, ctx)
    assert isinstance(made, GitHubSecretSink) and made.check() is None
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    before = time.time()
    made.deliver({CLIENT_SECRET: secret, REGISTRATION_ACCESS_TOKEN: token})
    assert fake.secrets[owner_key] == {"APP_SECRET": secret, "C_RAT": token}
    assert made.delivered_since(before) is True
    assert made.delivered_since(before + 3600) is False
    for seen in fake.server.requests:  # only ever sealed
        assert secret.encode() not in seen.body and token.encode() not in seen.body


def test_github_sink_errors_are_secret_free(fakes):
    fake = fakes(FakeGitHub())
    wrong = secrets.token_urlsafe(20)
    ctx = context({"GITHUB_TOKEN": wrong}, {"github": fake.url})
    made = sink_for(Client(client_id="c", secret_sink="github:acme/app:S"), ctx)
    assert made is not None
    with pytest.raises(ActionError) as err:
        made.deliver({CLIENT_SECRET: "v" * 20})
    assert str(err.value) == "sink github:acme/app:S: GitHub 401 Bad credentials"
    assert wrong not in str(err.value)
    unset = sink_for(Client(client_id="c", secret_sink="github:acme/app:S"), context())
    assert unset is not None and unset.check() == "sink github:acme/app:S: GITHUB_TOKEN is not set"

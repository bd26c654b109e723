"""Promise: no secret in any output unless ``--show-secrets``.

One project plants every kind of credential leakstop handles -- a live client secret
registered at the real oidc-provider, provider secrets, a GitHub token in a commit message,
PEM, OpenSSH and JWK private keys, a PKCS#12 keystore, a secret inside a zip -- and the
environment holds a registration access token, an admin token and GitHub tokens. Then every
command and format runs as a real process: scan in all five formats, on a terminal (progress
bar), with ``--debug`` and ``--verify``; verify; baseline, merge and summary; the Action
(log, annotations, SARIF, job summary, outputs); revoke's dry run and a real deletion with its
audit log; and bad input that makes each command complain. No output may hold a secret or
token in full, nor the part of it after the four characters redaction shows, nor either half
of that part, nor its base64; no key may show a line of its body."""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from scanner import samples
from tests.security.support import (
    Run,
    child_env,
    github_token,
    google_secret,
    key_fragments,
    leakstop,
    secret_fragments,
)
from tests.sources.artifacts_fixtures import zip_bytes
from tests.sources.conftest import GitRepo
from tests.support.oidc import OidcServer


@dataclass
class Planted:
    """Everything that must never be printed, and the texts that were."""

    forbidden: dict[str, list[str]] = field(default_factory=dict)
    """label -> strings that must not appear in any output."""
    outputs: dict[str, str] = field(default_factory=dict)
    """what produced it -> the text."""

    def secret(self, label: str, value: str, *, client_id: str | None = None) -> str:
        forms = [value, *secret_fragments(value), base64.b64encode(value.encode()).decode()]
        if client_id:
            forms.append(base64.b64encode(f"{client_id}:{value}".encode()).decode())
        self.forbidden[label] = forms
        return value

    def key(self, label: str, text: str, *extra: str) -> str:
        self.forbidden[label] = [*key_fragments(text), *extra]
        return text

    def record(self, what: str, run: Run) -> Run:
        self.outputs[f"{what} (stdout)"] = run.stdout
        self.outputs[f"{what} (stderr)"] = run.stderr
        return run

    def record_files(self, directory: Path) -> None:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                self.outputs[f"file {path.relative_to(directory)}"] = path.read_text(
                    "utf-8", "replace"
                )

    def leaks(self) -> list[str]:
        found = []
        for what, text in self.outputs.items():
            for label, forms in self.forbidden.items():
                for form in forms:
                    if form and form in text:
                        found.append(f"{label} in {what}: ...{form[:12]}...")
                        break
        return found


def plant(tmp_path: Path, server: OidcServer, planted: Planted) -> tuple[Path, Path, dict]:
    """The project (a git repository), the registry and the environment."""
    live = server.register_secret_client()
    other = server.register_secret_client()
    assert live.client_secret and other.client_secret
    planted.secret("live client secret", live.client_secret, client_id=live.client_id)
    planted.secret("second client secret", other.client_secret, client_id=other.client_id)
    env_tokens = {
        "RAT_LIVE": planted.secret("registration access token", live.registration_access_token),
        "RAT_OTHER": planted.secret("second rat", other.registration_access_token),
        "KC_ADMIN": planted.secret("admin token", samples.expand("«b64u:48»", "admin")),
        "GITHUB_TOKEN": planted.secret("GITHUB_TOKEN", github_token("env-github")),
        "LEAKSTOP_TOKEN": planted.secret("LEAKSTOP_TOKEN", github_token("env-leakstop")),
    }
    google = planted.secret("google secret", google_secret("hygiene"))
    okta_text = samples.expand(
        "OKTA_DOMAIN=dev-7.okta.com\nOKTA_CLIENT_ID=0oa«alnum:17»\nOKTA_CLIENT_SECRET=«b64u:40»\n",
        "hygiene",
    )
    planted.secret("okta secret", okta_text.rsplit("=", 1)[1].strip())
    in_message = planted.secret("token in a commit message", github_token("message"))
    in_zip = planted.secret("secret in a zip", google_secret("zipped"))
    pem_ec = planted.key("pkcs8 key", samples.pem("pkcs8-ec"))
    pem_rsa = planted.key("rsa key", samples.pem("rsa-pkcs1"))
    openssh = planted.key("openssh key", samples.pem("openssh"))
    jwk = samples.private_jwk("rsa")
    planted.forbidden["jwk"] = [jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi")]
    store_key = ec.generate_private_key(ec.SECP256R1())
    store = pkcs12.serialize_key_and_certificates(
        b"signing", store_key, None, None, serialization.NoEncryption()
    )
    card = store_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    planted.key("keystore key", card)

    repo = GitRepo(tmp_path / "project")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo.path)], check=True)
    repo.git("config", "user.name", "Test Author")
    repo.git("config", "user.email", "author@example.test")
    base = repo.commit("start", {"README": "hello\n"})
    repo.commit(
        "config",
        {
            "svc/settings.py": (
                f'CLIENT_ID = "{live.client_id}"\nCLIENT_SECRET = "{live.client_secret}"\n'
            ),
            "svc/other.py": (
                f'CLIENT_ID = "{other.client_id}"\nCLIENT_SECRET = "{other.client_secret}"\n'
            ),
            "web/google.env": f"GOOGLE_CLIENT_SECRET={google}\n",
            "web/okta.env": okta_text,
            "keys/signing.pem": pem_ec,
            "keys/legacy.pem": pem_rsa,
            "keys/id_ed25519": openssh,
            "keys/jwks.json": json.dumps({"keys": [jwk]}, indent=2),
        },
    )
    (repo.path / "dist").mkdir()
    (repo.path / "dist" / "app.zip").write_bytes(
        zip_bytes({"conf/app.properties": f"oauth.client-secret={in_zip}\n"})
    )
    (repo.path / "dist" / "store.p12").write_bytes(store)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", f"deploy\n\nused token {in_message} to test it")

    registry = tmp_path / "registry.toml"
    registry.write_text(
        f'[[issuer]]\nname = "corp"\nissuer = "{server.issuer}"\n\n'
        f'[[client]]\nclient_id = "{live.client_id}"\nissuer = "corp"\nowner = "team-a"\n'
        f'registration_client_uri = "{live.registration_client_uri}"\n'
        'registration_access_token_env = "RAT_LIVE"\nrevoke = "rfc7592-delete"\n\n'
        f'[[client]]\nclient_id = "{other.client_id}"\nissuer = "corp"\nowner = "team-b"\n'
        'admin_token_env = "KC_ADMIN"\nrevoke = "provider:keycloak"\n'
        'secret_sink = "file:/nonexistent/leakstop-sink.env"\n'
    )
    return repo.path, registry, {**env_tokens, "LEAKSTOP_HYGIENE_BASE": base}


def on_terminal(args: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    """``leakstop ARGS`` on a pseudo-terminal: progress bar, colours, prompts as a person
    would see them; everything it printed."""
    main, child = pty.openpty()
    chunks: list[bytes] = []
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scanner", *args],
            stdin=subprocess.DEVNULL,
            stdout=child,
            stderr=child,
            cwd=cwd,
            env=env,
        )
        os.close(child)
        child = -1
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
    finally:
        os.close(main)
        if child >= 0:
            os.close(child)
    return b"".join(chunks).decode("utf-8", "replace")


def test_no_secret_or_token_in_any_output(tmp_path: Path, oidc_server: OidcServer) -> None:
    planted = Planted()
    project, registry, tokens = plant(tmp_path, oidc_server, planted)
    out = tmp_path / "out"
    out.mkdir()
    env = child_env(**tokens)
    env.pop("NO_COLOR", None)

    def run(what: str, *args: str | Path, stdin: bytes | None = None) -> Run:
        return planted.record(what, leakstop(*args, cwd=out, env=env, stdin=stdin))

    # scan, every format, and the ways to make it talk more
    for fmt in ("text", "json", "jsonl", "sarif", "github"):
        assert run(f"scan -f {fmt}", "scan", project, "-f", fmt).returncode == 1
    assert run("scan -o", "scan", project, "-f", "json", "-o", out / "report.json").returncode == 1
    verified = out / "verified.json"
    debug = run(
        "--debug scan --verify",
        "--debug", "scan", project, "--verify", "--registry", registry, "-f", "json",
        "-o", verified, "--explain",
    )  # fmt: skip
    assert debug.returncode == 1, debug.stderr
    assert "leakstop: debug: POST" in debug.stderr  # the log is on, and says something
    assert '"verdict": "live"' in verified.read_text()
    planted.outputs["scan on a terminal"] = on_terminal(
        ["scan", str(project), "--jobs", "2"], cwd=out, env=env
    )
    assert " blobs, " in planted.outputs["scan on a terminal"]  # the progress bar drew
    planted.outputs["--debug verify on a terminal"] = on_terminal(
        ["--debug", "verify", str(out / "report.json"), "--registry", str(registry)],
        cwd=out,
        env=env,
    )

    # reading reports back
    for fmt in ("text", "json", "sarif", "github"):
        run(f"verify -f {fmt}", "verify", out / "report.json", "--registry", registry, "-f", fmt)
    run("baseline", "baseline", verified, "-o", out / "baseline.json")
    run("merge", "merge", out / "report.json", verified, "-o", out / "merged.json")
    run("summary", "summary", verified)
    run("registry fingerprint", "registry", "fingerprint", stdin=f"{tokens['KC_ADMIN']}\n".encode())

    # the Action: log, annotations, SARIF, job summary, step outputs
    for event, fmt in (("pull_request", "text"), ("schedule", "sarif")):
        event_file = out / f"{event}.json"
        payload: dict[str, object] = {}
        if event == "pull_request":
            head = subprocess.run(
                ["git", "-C", str(project), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            payload = {
                "pull_request": {
                    "number": 3,
                    "base": {"sha": tokens["LEAKSTOP_HYGIENE_BASE"]},
                    "head": {"sha": head},
                }
            }
        event_file.write_text(json.dumps(payload))
        action_env = {
            **env,
            "GITHUB_WORKSPACE": str(project),
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_file),
            "GITHUB_STEP_SUMMARY": str(out / f"summary-{event}.md"),
            "GITHUB_OUTPUT": str(out / f"outputs-{event}.txt"),
            "RUNNER_TEMP": str(out / f"runner-{event}"),
            "LEAKSTOP_FORMAT": fmt,
            "LEAKSTOP_VERIFY": "true",
            "LEAKSTOP_REGISTRY": str(registry),
            "LEAKSTOP_EXTRA_ARGS": "--jobs 1",
        }
        action = planted.record(f"action {event}", leakstop("action", cwd=out, env=action_env))
        assert action.returncode == 1, action.output
        assert "::error" in action.stdout

    # revocation: the plan, then a real deletion, with its audit log
    audit = out / "audit.jsonl"
    plan = run("revoke dry run", "revoke", verified, "--registry", registry, "--audit-log", audit)
    assert plan.returncode == 0 and "rfc7592-delete" in plan.stdout, plan.output
    done = run(
        "--debug revoke --yes",
        "--debug", "revoke", verified, "--registry", registry, "--audit-log", audit, "--yes",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.output
    assert "leakstop: debug: DELETE" in done.stderr
    assert audit.exists() and "rfc7592-delete" in audit.read_text()

    # bad input: each command complains in one line, without quoting what it read
    secrets_file = project / "web" / "google.env"
    bad = tmp_path / "bad"
    bad.mkdir()
    google, okta = planted.forbidden["google secret"][0], planted.forbidden["okta secret"][0]
    finding = {"rule_id": "x", "kind": "client-secret", "source": "file", "fingerprint": "f"}
    (bad / "report.jsonl").write_text(json.dumps({**finding, "line": google}) + "\n")
    (bad / "registry.toml").write_text(
        f'[[client]]\nclient_id = "c"\nsecret_sha256 = ["{google}"]\n'
    )
    (bad / "broken.toml").write_text(f"client_id = {okta}\n")
    for what, args in (
        ("verify a secrets file", ("verify", secrets_file)),
        ("verify a bad finding", ("verify", bad / "report.jsonl")),
        ("a baseline that is a secrets file", ("scan", project, "--baseline", secrets_file)),
        ("a registry with plaintext", ("scan", project, "--registry", bad / "registry.toml")),
        ("a registry that is not TOML", ("scan", project, "--registry", bad / "broken.toml")),
        ("a key file that is not a key", ("registry", "fingerprint", "--key", secrets_file)),
        ("revoke a secrets file", ("revoke", secrets_file, "--registry", registry)),
        ("merge a secrets file", ("merge", secrets_file, "-o", bad / "merged.json")),
    ):
        complaint = run(what, *args)
        assert complaint.returncode == 2, (what, complaint.output)
        assert "Traceback" not in complaint.stderr, (what, complaint.stderr)
    key_on_stdin = run(
        "a key on stdin", "registry", "fingerprint", stdin=planted_key_text(project).encode()
    )
    assert key_on_stdin.returncode == 2

    planted.record_files(out)
    shown = leakstop("scan", project, "--show-secrets", "-f", "json", cwd=out, env=env)
    control = Planted(forbidden=planted.forbidden, outputs={"--show-secrets": shown.stdout})
    assert len(control.leaks()) >= 8  # the check sees secrets when they are there
    for path in [*project.rglob("*")]:  # nothing was written next to the scanned files
        assert ".leakstop" not in path.name
    assert len(planted.outputs) > 60
    assert planted.leaks() == [], "\n".join(planted.leaks())


def planted_key_text(project: Path) -> str:
    return (project / "keys" / "signing.pem").read_text()

"""The CLI: `scan --verify --registry`, `verify FINDINGS.json`, `registry fingerprint`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner, Result

from scanner.cli import app
from scanner.keys import jwk_thumbprint
from scanner.models import secret_hash
from tests.support.oidc import OidcServer, SigningKey, generate_signing_key
from tests.verify.fakes import new_secret

runner = CliRunner()
QUIET = ("--jobs", "1", "--no-progress")


def leakstop(*args: object, stdin: str | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=stdin)


def write_registry(path: Path, issuer: str, clients: list[dict[str, str]]) -> Path:
    lines = ["[[issuer]]", 'name = "corp"', f'issuer = "{issuer}"', ""]
    for client in clients:
        lines.append("[[client]]")
        lines.extend(f'{k} = "{v}"' for k, v in client.items())
        lines.append("")
    path.write_text("\n".join(lines), "utf-8")
    return path


def project(tmp_path: Path, client_id: str, secret: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text(f'CLIENT_ID = "{client_id}"\nCLIENT_SECRET = "{secret}"\n')
    return repo


def write_key(path: Path, key: SigningKey, passphrase: str | None = None) -> Path:
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return path


def test_scan_verify_with_the_real_server(tmp_path, oidc_server: OidcServer):
    live = oidc_server.register_secret_client()
    repo = project(tmp_path, live.client_id, live.client_secret)
    registry = write_registry(
        tmp_path / "registry.toml",
        oidc_server.issuer,
        [{"client_id": live.client_id, "issuer": "corp", "owner": "team-orders"}],
    )
    verify = ("--verify", "--registry", registry, *QUIET)
    result = leakstop("scan", repo, "--no-history", *verify, "--format", "json")
    assert result.exit_code == 1, result.output  # findings: unchanged by verification
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verdict"] == "live"
    assert finding["owner"] == "team-orders"
    assert (
        finding["verdict_reason"] == "corp: token endpoint: 200 token issued (client_secret_basic)"
    )
    assert live.client_secret not in result.output

    text = leakstop("scan", repo, *verify)
    assert "[live]" in text.stdout and "owner: team-orders" in text.stdout
    assert "verdict live" in leakstop("scan", repo, *verify, "--format", "sarif").stdout


def test_scan_with_registry_only_is_offline(tmp_path):
    repo = project(tmp_path, "orders", new_secret())
    registry = write_registry(
        tmp_path / "registry.toml",
        "http://127.0.0.1:9",  # never contacted
        [{"client_id": "orders", "issuer": "corp", "owner": "team-o"}],
    )
    result = leakstop("scan", repo, "--registry", registry, "--format", "json", *QUIET)
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verdict"] == "not_checked"
    assert finding["owner"] == "team-o"
    assert finding["verdict_reason"] == (
        "found next to the id of registered client orders (offline; not checked live)"
    )


def test_verify_a_redacted_report(tmp_path, oidc_server: OidcServer):
    live = oidc_server.register_secret_client()
    repo = project(tmp_path, live.client_id, live.client_secret)
    report = tmp_path / "findings.json"
    assert leakstop("scan", repo, "--format", "json", "--output", report, *QUIET).exit_code == 1
    assert live.client_secret not in report.read_text()
    registry = write_registry(
        tmp_path / "registry.toml",
        oidc_server.issuer,
        [{"client_id": live.client_id, "issuer": "corp", "owner": "team-r"}],
    )

    result = leakstop("verify", report, "--registry", registry, "--format", "json")
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verdict"] == "live" and finding["owner"] == "team-r"
    assert live.client_secret not in result.output

    # a git finding cannot be re-read yet: unknown, with a warning saying why
    data = json.loads(report.read_text())
    data["findings"][0].update(source="git", commit="c" * 40)
    report.write_text(json.dumps(data))
    result = leakstop("verify", report, "--registry", registry, "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verdict"] == "unknown"
    assert "could not be re-read" in finding["verdict_reason"]
    assert "leakstop: warning: verify: secret not available" in result.stderr


def test_verify_offline_and_bad_inputs(tmp_path):
    secret = new_secret()
    report = tmp_path / "findings.json"
    leakstop("scan", project(tmp_path, "orders", secret), "-f", "json", "-o", report, *QUIET)
    registry = tmp_path / "registry.toml"
    registry.write_text(
        f'[[client]]\nclient_id = "orders"\nsecret_sha256 = ["{secret_hash(secret)}"]\n'
    )
    result = leakstop("verify", report, "--registry", registry, "--offline", "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verdict"] == "not_checked" and finding["client_id"] == "orders"

    registry.write_text('[[client]]\nclient_id = "orders"\nclient_secret = "plain"\n')
    bad = leakstop("verify", report, "--registry", registry)
    assert bad.exit_code == 2
    assert "plaintext secrets are never read from the registry" in bad.stderr
    assert "Traceback" not in bad.output
    missing = leakstop("verify", tmp_path / "nope.json")
    assert missing.exit_code == 2 and "cannot read report" in missing.stderr


def test_fingerprint_of_secrets_on_stdin():
    first, second = new_secret(), new_secret()
    result = leakstop("registry", "fingerprint", stdin=f"{first}\n\n{second}\n")
    assert result.exit_code == 0
    assert result.stdout == f'secret_sha256 = ["{secret_hash(first)}", "{secret_hash(second)}"]\n'
    assert first not in result.output
    empty = leakstop("registry", "fingerprint", stdin="\n")
    assert empty.exit_code == 2 and "no secret on stdin" in empty.stderr


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_fingerprint_of_a_key_file(tmp_path, alg):
    key = generate_signing_key(alg)
    result = leakstop("registry", "fingerprint", "--key", write_key(tmp_path / "key.pem", key))
    assert result.exit_code == 0
    assert result.stdout == f'jwk_thumbprints = ["{jwk_thumbprint(key.public_jwk)}"]\n'


def test_fingerprint_of_an_encrypted_key_file(tmp_path, monkeypatch):
    key, passphrase = generate_signing_key("ES256"), new_secret()
    path = write_key(tmp_path / "key.pem", key, passphrase)
    refused = leakstop("registry", "fingerprint", "--key", path)
    assert refused.exit_code == 2 and "--password-env" in refused.stderr
    monkeypatch.setenv("KEY_PASSPHRASE", passphrase)
    result = leakstop("registry", "fingerprint", "--key", path, "--password-env", "KEY_PASSPHRASE")
    assert result.stdout == f'jwk_thumbprints = ["{jwk_thumbprint(key.public_jwk)}"]\n'
    assert passphrase not in result.output


def test_fingerprint_refuses_a_key_on_stdin(tmp_path):
    text = write_key(tmp_path / "key.pem", generate_signing_key("ES256")).read_text()
    result = leakstop("registry", "fingerprint", stdin=text)
    assert result.exit_code == 2 and "--key FILE" in result.stderr

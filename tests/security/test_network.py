"""Promise: verification talks only to the issuers the registry names and to the providers'
own endpoints, never to a host or URL found in scanned content (SSRF).

Two listening sockets that accept nothing stand guard: one is the loopback "attacker" that
the scanned content names (issuer URLs, discovery URLs, a Keycloak ``auth-server-url``, Okta
and Auth0 domains, a JWK's ``jku``/``x5u``), the other is the HTTPS proxy the child is given,
so a request to any non-loopback host -- ``attacker.example`` included -- would have to knock
there. After ``scan --verify --registry`` and ``leakstop verify``, neither may have a
connection waiting, while the registry's own issuer (the real oidc-provider) was asked."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner import samples
from tests.security.support import child_env, generic_secret, leakstop
from tests.support.oidc import OidcServer


@pytest.fixture
def canary() -> Iterator[tuple[socket.socket, int]]:
    """A socket that listens and never accepts: a connection would wait in its backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock, sock.getsockname()[1]
    sock.close()


@pytest.fixture
def proxy(canary: tuple[socket.socket, int]) -> Iterator[tuple[socket.socket, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock, sock.getsockname()[1]
    sock.close()


def untouched(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def hostile_project(root: Path, attacker: str, registered_id: str) -> None:
    """Findings whose surroundings point verification at ``attacker`` in every way a file
    can: the client id is a registered one, so the registry's issuer is the right place."""
    root.mkdir()
    (root / "settings.py").write_text(
        f'ISSUER = "{attacker}/"\n'
        f'OIDC_DISCOVERY_URL = "{attacker}/.well-known/openid-configuration"\n'
        'TOKEN_URL = "https://attacker.example/oauth/token"\n'
        f'CLIENT_ID = "{registered_id}"\n'
        f'CLIENT_SECRET = "{generic_secret("ssrf-registered")}"\n'
    )
    (root / "other.py").write_text(
        f'token_endpoint = "{attacker}/token"\n'
        'client_id = "not-registered-anywhere"\n'
        f'client_secret = "{generic_secret("ssrf-unregistered")}"\n'
    )
    (root / "keycloak.json").write_text(
        json.dumps(
            {
                "realm": "shop",
                "auth-server-url": f"{attacker}/auth",
                "resource": "shop-web",
                "credentials": {"secret": generic_secret("ssrf-keycloak")},
            },
            indent=2,
        )
    )
    host = attacker.split("://", 1)[1]
    (root / "okta.env").write_text(
        f"OKTA_DOMAIN={host}\n"
        + samples.expand("OKTA_CLIENT_ID=0oa«alnum:17»\nOKTA_CLIENT_SECRET=«b64u:40»\n", "o")
    )
    (root / "okta-lookalike.env").write_text(
        "OKTA_DOMAIN=dev-1.okta.com.attacker.example\n"
        + samples.expand("OKTA_CLIENT_ID=0oa«alnum:17»\nOKTA_CLIENT_SECRET=«b64u:40»\n", "p")
    )
    (root / "auth0-lookalike.env").write_text(
        "AUTH0_DOMAIN=acme.auth0.com.attacker.example\n"
        + samples.expand("AUTH0_CLIENT_ID=«alnum:32»\nAUTH0_CLIENT_SECRET=«b64u:64»\n", "b")
    )
    (root / "auth0.env").write_text(
        f"AUTH0_DOMAIN={host}\n"
        + samples.expand("AUTH0_CLIENT_ID=«alnum:32»\nAUTH0_CLIENT_SECRET=«b64u:64»\n", "a")
    )
    jwk = samples.private_jwk("ec")
    jwk.update(jku=f"{attacker}/jwks.json", x5u=f"{attacker}/cert.pem", iss=attacker)
    (root / "signing.jwk.json").write_text(json.dumps(jwk))


def test_no_connection_to_anything_scanned_content_names(
    tmp_path: Path,
    oidc_server: OidcServer,
    canary: tuple[socket.socket, int],
    proxy: tuple[socket.socket, int],
) -> None:
    attacker_sock, attacker_port = canary
    proxy_sock, proxy_port = proxy
    attacker = f"http://127.0.0.1:{attacker_port}"
    registered = oidc_server.register_secret_client()
    project = tmp_path / "project"
    hostile_project(project, attacker, registered.client_id)
    registry = tmp_path / "registry.toml"
    registry.write_text(
        f'[[issuer]]\nname = "corp"\nissuer = "{oidc_server.issuer}"\n\n'
        f'[[client]]\nclient_id = "{registered.client_id}"\nissuer = "corp"\nowner = "team-a"\n'
    )
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    env = child_env(HTTPS_PROXY=proxy_url, HTTP_PROXY=proxy_url, ALL_PROXY=proxy_url, NO_COLOR="1")
    report = tmp_path / "report.json"
    scan = leakstop(
        "scan", project, "--verify", "--registry", registry, "-f", "json", "-o", report,
        "--jobs", "1", "--no-progress", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert scan.returncode == 1, scan.stderr
    verify = leakstop(
        "verify", report, "--registry", registry, "-f", "json", "--timeout", "5",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert verify.returncode == 1, verify.stderr

    assert untouched(attacker_sock), "verification connected to a host from scanned content"
    assert untouched(proxy_sock), "verification went out to a non-loopback host"
    for run in (scan, verify):
        findings = json.loads(run.stdout or report.read_text())["findings"]
        by_path = {f["path"]: f for f in findings}
        assert len(by_path) == 7, sorted(by_path)
        checked = by_path["settings.py"]  # asked at the registry's issuer: a wrong secret
        assert checked["verdict"] == "dead" and checked["verdict_reason"].startswith("corp:")
        for path, finding in by_path.items():
            if path != "settings.py":
                assert finding["verdict"] in ("unknown", "not_checked"), finding


@pytest.mark.parametrize(
    ("line", "domain"),
    [
        ("OKTA_DOMAIN=dev-1.okta.com", "dev-1.okta.com"),
        ("issuer: https://dev-1.okta.com/oauth2/default", "dev-1.okta.com"),
        ("OKTA_DOMAIN=dev-1.okta.com.attacker.example", None),
        ("OKTA_DOMAIN=dev-1.okta.com-attacker.example", None),
        ("AUTH0_DOMAIN=acme.eu.auth0.com", "acme.eu.auth0.com"),
        ("AUTH0_DOMAIN=acme.auth0.com.", "acme.auth0.com"),
        ("AUTH0_DOMAIN=acme.auth0.com.attacker.example", None),
    ],
)
def test_a_provider_domain_is_taken_whole_or_not_at_all(line: str, domain: str | None) -> None:
    """Okta and Auth0 checks go to the tenant domain next to the secret; a look-alike host
    that merely starts with one must not be cut down to it."""
    from scanner.engine import Engine
    from scanner.models import Blob, Origin
    from scanner.rules import load_ruleset

    provider = "auth0" if "auth0" in line else "okta"
    template = (
        "OKTA_CLIENT_ID=0oa«alnum:17»\nOKTA_CLIENT_SECRET=«b64u:40»\n"
        if provider == "okta"
        else "AUTH0_CLIENT_ID=«alnum:32»\nAUTH0_CLIENT_SECRET=«b64u:64»\n"
    )
    text = line + "\n" + samples.expand(template, line)
    blob = Blob(data=text.encode(), origin=Origin(source="file", path="x.env"))
    [finding] = [f for f in Engine(load_ruleset("all")).scan(blob).findings]
    assert finding.provider == provider
    assert finding.attrs.get("domain") == domain

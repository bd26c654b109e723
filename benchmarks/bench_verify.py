"""Verification benchmark against the real authorization server of the tests.

Starts panva's oidc-provider on 127.0.0.1 (``tests.support.oidc.OidcServer``; needs
``npm ci --prefix tests/oidc_server``), registers distinct clients -- by default 900 with a
client secret and 100 with a private_key_jwt key (ES256) -- and verifies one finding per
credential with ``scanner.verify.verify_report`` at several concurrency levels. A fraction of
the secrets is replaced by wrong ones so dead verdicts (two requests each: basic, then post)
are part of the load. Reports credentials/s and HTTP requests/s per concurrency level; the
per-host rate limit is off (0) because the only host is loopback -- with the default of 10
requests/s per host, any run is bounded by that limit instead.

Usage: python benchmarks/bench_verify.py [--secrets 900] [--keys 100] [--dead 0.1]
                                         [--concurrency 1,4,8,16,32]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner import keys
from scanner.models import Finding, Origin, make_fingerprint
from scanner.registry import parse_registry
from scanner.verify import VerifyOptions, verify_report
from tests.support.oidc import OidcServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, default=900)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--dead", type=float, default=0.1, help="fraction of wrong secrets")
    parser.add_argument("--concurrency", default="1,4,8,16,32")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    with OidcServer() as server:
        started = time.monotonic()
        clients, findings, expected = register(server, args.secrets, args.keys, args.dead)
        print(
            f"registered {len(clients)} clients at {server.issuer} "
            f"in {time.monotonic() - started:.1f}s"
        )
        registry = parse_registry(
            {"issuer": [{"name": "local", "issuer": server.issuer}], "client": clients}, "bench"
        )
        warm = VerifyOptions(per_host_rate=0)
        verify_report(findings[:20], registry, warm)  # discovery, connections, imports
        floor = server_floor(server, clients[0]["client_id"], findings[0].secret)
        print(
            f"server alone: {floor:.0f} token requests/s (one keep-alive connection, no leakstop)"
        )

        print("\n| concurrency | seconds | credentials/s | requests | requests/s | verdicts |")
        print("|---|---|---|---|---|---|")
        for level in levels:
            options = VerifyOptions(concurrency=level, per_host_rate=0, timeout=30)
            started = time.monotonic()
            result = verify_report(findings, registry, options)
            seconds = time.monotonic() - started
            verdicts = tally(result.findings)
            wrong = [
                f for f, want in zip(result.findings, expected, strict=True) if f.verdict != want
            ]
            print(
                f"| {level} | {seconds:.2f} | {len(findings) / seconds:.0f} | {result.requests} "
                f"| {result.requests / seconds:.0f} | {verdicts} |"
            )
            if wrong:
                raise SystemExit(
                    f"{len(wrong)} unexpected verdicts, e.g. {wrong[0].verdict_reason}"
                )
    print(f"\n{len(findings)} distinct credentials per run; every verdict as expected.")


def register(
    server: OidcServer, secret_count: int, key_count: int, dead_fraction: float
) -> tuple[list[dict[str, object]], list[Finding], list[str]]:
    """Register the clients over one keep-alive connection; one finding per credential."""
    parts = urlsplit(server.registration_endpoint)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    rng = random.Random(7)
    clients: list[dict[str, object]] = []
    findings: list[Finding] = []
    expected: list[str] = []
    try:
        for i in range(secret_count + key_count):
            metadata: dict[str, object] = {
                "grant_types": ["client_credentials"],
                "response_types": [],
            }
            key = None
            if i >= secret_count:
                key = ec.generate_private_key(ec.SECP256R1())
                metadata |= {
                    "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [keys.public_jwk(key)]},
                }
            conn.request(
                "POST", parts.path, json.dumps(metadata), {"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            body = json.loads(response.read())
            if response.status != 201:
                raise SystemExit(f"registration failed: {response.status} {body}")
            client_id = body["client_id"]
            clients.append({"client_id": client_id, "issuer": "local", "owner": f"team-{i % 17}"})
            if key is None:
                dead = rng.random() < dead_fraction
                secret = secrets.token_urlsafe(48) if dead else body["client_secret"]
                findings.append(
                    finding(secret, client_id, "client-secret", "generic-client-secret")
                )
                expected.append("dead" if dead else "live")
            else:
                text = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                findings.append(finding(text, client_id, "private-key", "private-key-pem"))
                expected.append("live")
    finally:
        conn.close()
    return clients, findings, expected


def server_floor(server: OidcServer, client_id: object, secret: str, count: int = 300) -> float:
    """Sequential client_credentials requests over a raw keep-alive connection: how fast the
    server answers when nothing else runs on the client side."""
    parts = urlsplit(server.token_endpoint)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        started = time.monotonic()
        for _ in range(count):
            conn.request("POST", parts.path, "grant_type=client_credentials", headers)
            conn.getresponse().read()
        return count / (time.monotonic() - started)
    finally:
        conn.close()


def finding(secret: str, client_id: str, kind: str, rule_id: str) -> Finding:
    return Finding(
        rule_id=rule_id,
        kind=kind,  # type: ignore[arg-type]
        provider="generic",
        origin=Origin(source="file", path=f"svc/{client_id}.env"),
        line=1,
        column=1,
        secret=secret,
        fingerprint=make_fingerprint(rule_id, secret),
        client_id=client_id,
    )


def tally(findings: tuple[Finding, ...]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.verdict] = counts.get(f.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


if __name__ == "__main__":
    main()

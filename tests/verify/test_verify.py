"""Verdicts that must never be wrong, against loopback fakes: every kind of trouble is
unknown (never dead), redirects are not followed, hosts named in scanned content are never
contacted, each credential is checked once, and secrets never reach reasons or logs."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest

from scanner.models import Finding
from scanner.registry import Registry
from scanner.verify import VerifyOptions, verify_findings, verify_report
from tests.verify.fakes import Reply, Seen, closed_port, finding, new_secret, registry

OPTIONS = VerifyOptions(timeout=2, per_host_rate=0, max_retry_after=2)


def verify_one(f: Finding, reg: Registry, **options: object) -> Finding:
    return verify_findings([f], reg, replace(OPTIONS, **options))[0]  # type: ignore[arg-type]


def at(url: str) -> Registry:
    return registry({"corp": url}, [{"client_id": "orders", "issuer": "corp", "owner": "team"}])


def orders(secret: str | None = None, **kwargs: object) -> Finding:
    return finding(secret or new_secret(), client_id="orders", **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- unknown, never dead


def test_issuer_on_a_closed_port_is_unknown():
    out = verify_one(orders(), at(f"http://127.0.0.1:{closed_port()}"))
    assert out.verdict == "unknown"
    assert "connection refused" in (out.verdict_reason or "")
    assert out.owner == "team"


def test_server_error_is_unknown_and_not_asked_again(fake_issuer):
    issuer = fake_issuer(Reply(500, {"error": "server_error"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert out.verdict_reason == "corp: token endpoint: 500 server error (client_secret_basic)"
    assert len([s for s in issuer.requests if s.path == "/token"]) == 1


def test_429_with_retry_after_is_waited_out_once_then_unknown(fake_issuer):
    issuer = fake_issuer(Reply(429, {"error": "slow_down"}, headers={"Retry-After": "1"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "429 rate limited, Retry-After 1s" in (out.verdict_reason or "")
    token = [s for s in issuer.requests if s.path == "/token"]
    assert len(token) == 2  # one retry after the pause the server asked for, no more
    assert token[1].at - token[0].at >= 0.9


def test_429_with_a_long_retry_after_is_not_retried(fake_issuer):
    issuer = fake_issuer(Reply(429, b"", headers={"Retry-After": "120"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "Retry-After 120s" in (out.verdict_reason or "")
    assert len([s for s in issuer.requests if s.path == "/token"]) == 1


def test_retry_after_holds_back_the_next_request_to_that_host(fake_issuer):
    calls = {"token": 0}

    def first_busy(seen: Seen) -> Reply:
        calls["token"] += 1
        if calls["token"] == 1:
            return Reply(503, b"", headers={"Retry-After": "1"})
        return Reply(401, {"error": "invalid_client"})

    issuer = fake_issuer(first_busy)
    reg = registry(
        {"corp": issuer.url},
        [{"client_id": "a", "issuer": "corp"}, {"client_id": "b", "issuer": "corp"}],
        token_endpoint=f"{issuer.url}/token",
    )
    found = [finding(new_secret(), client_id="a"), finding(new_secret(), client_id="b")]
    out = verify_findings(found, reg, replace(OPTIONS, concurrency=1))
    assert [f.verdict for f in out] == ["unknown", "dead"]
    assert out[0].verdict_reason == "corp: token endpoint: 503 server error (client_secret_basic)"
    first, second = issuer.requests[0], issuer.requests[1]
    assert second.at - first.at >= 0.9  # the 503's Retry-After held the next request back


def test_html_page_with_200_is_unknown(fake_issuer):
    issuer = fake_issuer(Reply(200, "<html><body>Request blocked by WAF</body></html>"))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "200 HTML page, not an OAuth answer" in (out.verdict_reason or "")


def test_401_html_page_is_unknown(fake_issuer):
    issuer = fake_issuer(Reply(401, "<html>Proxy authentication required</html>"))
    assert verify_one(orders(), at(issuer.url)).verdict == "unknown"


def test_200_without_a_token_is_unknown(fake_issuer):
    issuer = fake_issuer(Reply(200, {"status": "ok"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "200 without an access token" in (out.verdict_reason or "")


def test_non_json_answer_is_unknown(fake_issuer):
    issuer = fake_issuer(Reply(400, "Bad Request"))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "non-JSON answer (text/plain)" in (out.verdict_reason or "")


def test_slow_answer_past_the_timeout_is_unknown(fake_issuer):
    issuer = fake_issuer(Reply(200, {"access_token": "x"}, delay=3))
    started = time.monotonic()
    out = verify_one(orders(), at(issuer.url), timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert out.verdict == "unknown"
    assert "timed out after 0.5s" in (out.verdict_reason or "")


def test_redirect_is_not_followed(fake_issuer, listener):
    issuer = fake_issuer(Reply(302, b"", headers={"Location": f"{listener.url}/token"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "302 redirect, not followed" in (out.verdict_reason or "")
    assert not listener.contacted


def test_refused_basic_and_unhelpful_post_is_unknown_not_dead(fake_issuer):
    def basic_refused(seen: Seen) -> Reply:
        if "Authorization" in seen.headers:
            return Reply(401, {"error": "invalid_client"})
        return Reply(400, {"error": "invalid_request"})

    out = verify_one(orders(), at(fake_issuer(basic_refused).url))
    assert out.verdict == "unknown"
    assert out.verdict_reason == (
        "corp: token endpoint: 401 invalid_client (client_secret_basic); "
        "400 invalid_request (client_secret_post)"
    )


def test_401_without_a_body_but_with_a_challenge_is_dead(fake_issuer):
    issuer = fake_issuer(Reply(401, b"", headers={"WWW-Authenticate": 'Basic realm="x"'}))
    assert verify_one(orders(), at(issuer.url)).verdict == "dead"


# --------------------------------------------------------------------------- live after auth


@pytest.mark.parametrize(
    "error", ["unauthorized_client", "invalid_scope", "invalid_grant", "unsupported_grant_type"]
)
def test_post_authentication_errors_are_live_when_a_wrong_secret_is_refused(fake_issuer, error):
    secret = new_secret()

    def authenticates_first(seen: Seen) -> Reply:
        if seen.headers.get("Authorization", "").endswith(_basic_suffix(secret)):
            return Reply(400, {"error": error})
        return Reply(401, {"error": "invalid_client"})

    issuer = fake_issuer(authenticates_first)
    out = verify_one(orders(secret), at(issuer.url))
    assert out.verdict == "live"
    assert out.verdict_reason == (
        f"corp: token endpoint: 400 {error} after client authentication; "
        "a wrong secret is refused (client_secret_basic)"
    )
    assert len([s for s in issuer.requests if s.path == "/token"]) == 2  # the check + control


def test_a_server_that_answers_before_authenticating_gives_no_false_live(fake_issuer):
    issuer = fake_issuer(Reply(400, {"error": "unsupported_grant_type"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert "a wrong secret gets the same answer" in (out.verdict_reason or "")


def _basic_suffix(secret: str) -> str:
    import base64

    return base64.b64encode(f"orders:{secret}".encode()).decode()


# --------------------------------------------------------------------------- discovery trouble


def test_discovery_naming_another_issuer_is_unknown(fake_server, listener):
    meta = fake_server(
        Reply(200, {"issuer": "https://evil.example", "token_endpoint": f"{listener.url}/t"})
    )
    out = verify_one(orders(), at(meta.url))
    assert out.verdict == "unknown"
    assert "names a different issuer" in (out.verdict_reason or "")
    assert not listener.contacted


def test_discovery_with_a_plain_http_token_endpoint_elsewhere_is_refused(fake_server):
    meta = fake_server(
        lambda seen: Reply(
            200, {"issuer": meta.url, "token_endpoint": "http://idp.example.com/token"}
        )
    )
    out = verify_one(orders(), at(meta.url))
    assert out.verdict == "unknown"
    assert "must use https" in (out.verdict_reason or "")


def test_discovery_failure_is_unknown(fake_server):
    meta = fake_server(Reply(404, {"error": "not_found"}))
    out = verify_one(orders(), at(meta.url))
    assert out.verdict == "unknown"
    assert out.verdict_reason == (
        f"corp: discovery failed at {meta.url}: openid-configuration 404 not_found; "
        "RFC 8414 404 not_found"
    )


# --------------------------------------------------------------------------- never contacted


def test_a_host_named_in_scanned_content_is_never_contacted(fake_issuer, listener):
    """The file next to the secret names a server; only the registry's issuer is asked."""
    issuer = fake_issuer(Reply(200, {"access_token": "t"}))
    content_named = {"server_url": listener.url, "domain": f"127.0.0.1:{listener.port}"}
    found = [
        orders(attributes=content_named),
        finding(
            new_secret(),
            client_id="orders",
            provider="keycloak",
            rule_id="keycloak-client-secret",
            attributes=content_named,
        ),
        finding(
            new_secret(),
            client_id="unregistered",
            provider="keycloak",
            rule_id="keycloak-client-secret-adapter-json",
            attributes=content_named,
        ),
        finding(
            new_secret(),
            client_id="0oa1234567890abcdefg",
            provider="okta",
            rule_id="okta-client-secret",
            attributes=content_named,
        ),
        finding(
            new_secret(),
            client_id="a" * 32,
            provider="auth0",
            rule_id="auth0-client-secret",
            attributes={"domain": f"127.0.0.1:{listener.port}"},
        ),
    ]
    out = verify_findings(found, at(issuer.url), OPTIONS)
    assert [f.verdict for f in out] == ["live", "live", "unknown", "unknown", "unknown"]
    assert out[2].verdict_reason == "no issuer in registry for client unregistered"
    assert out[3].verdict_reason == "okta: no Okta domain (*.okta.com) near the secret"
    assert out[4].verdict_reason == "auth0: no Auth0 domain (*.auth0.com) near the secret"
    assert not listener.contacted


def test_no_issuer_known_is_unknown_without_any_request(listener):
    out = verify_one(orders(attributes={"server_url": listener.url}), Registry())
    assert out.verdict == "unknown"
    assert out.verdict_reason == "no issuer in registry for client orders"
    nothing = verify_one(finding(new_secret()), Registry())
    assert nothing.verdict_reason == "no client id near the secret and no registered secret matches"
    assert not listener.contacted


def test_client_ids_and_tokens_are_left_alone(listener):
    token = finding(new_secret(), kind="token", provider="github", rule_id="github-token")
    assert verify_one(token, at(listener.url)) == token
    assert not listener.contacted


# --------------------------------------------------------------------------- scale and hygiene


def test_each_distinct_credential_is_checked_once(fake_issuer):
    issuer = fake_issuer(Reply(200, {"access_token": "t"}))
    secret = new_secret()
    found = [orders(secret, path=f"copy{i}.env") for i in range(10)] + [orders() for _ in range(3)]
    result = verify_report(found, at(issuer.url), OPTIONS)
    assert {f.verdict for f in result.findings} == {"live"}
    assert result.checks == 4
    assert len([s for s in issuer.requests if s.path == "/token"]) == 4


def test_concurrency_is_bounded(fake_issuer):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(seen: Seen) -> Reply:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Reply(200, {"access_token": "t"})

    issuer = fake_issuer(slow)
    found = [orders() for _ in range(24)]
    out = verify_findings(found, at(issuer.url), replace(OPTIONS, concurrency=3))
    assert {f.verdict for f in out} == {"live"}
    assert 2 <= state["max"] <= 3


def test_per_host_rate_limit(fake_issuer):
    issuer = fake_issuer(Reply(200, {"access_token": "t"}))
    started = time.monotonic()
    verify_findings(
        [orders() for _ in range(6)],
        at(issuer.url),
        replace(OPTIONS, per_host_rate=10, concurrency=6),
    )
    # discovery + 6 token requests, at most 10 a second: the last leaves >= 0.6 s after the first
    assert time.monotonic() - started >= 0.55
    # Arrival times jitter on a loaded machine; the span of all requests cannot shrink.
    token = sorted(s.at for s in issuer.requests)
    assert token[-1] - token[0] >= 0.45


def test_secrets_never_reach_reasons_or_logs(fake_issuer, caplog):
    secret = new_secret()

    def echoing(seen: Seen) -> Reply:
        # a hostile server echoing the credential back in every field it can
        sent = seen.form.get("client_secret") or secret
        return Reply(400, {"error": sent, "error_description": f"bad secret {sent}"})

    issuer = fake_issuer(echoing)
    caplog.set_level(logging.DEBUG, logger="leakstop")
    out = verify_one(orders(secret), at(issuer.url))
    assert out.verdict == "unknown"
    assert secret not in (out.verdict_reason or "")
    assert secret not in caplog.text
    assert "…redacted…" in (out.verdict_reason or "")


def test_a_verifier_bug_is_unknown_not_a_crash(fake_issuer, monkeypatch):
    from scanner.verify import oauth

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError(new_secret())

    monkeypatch.setattr(oauth, "check_secret", broken)
    issuer = fake_issuer(Reply(200, {"access_token": "t"}))
    out = verify_one(orders(), at(issuer.url))
    assert out.verdict == "unknown"
    assert out.verdict_reason == "corp: internal error in the oauth check (KeyError)"

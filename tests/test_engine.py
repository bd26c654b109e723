"""The engine on bytes: prefilter, pairing, positions, overlaps, filters, hostile content."""

from __future__ import annotations

import os

import pytest

from scanner.engine import Engine
from scanner.filters import DEFAULT_FILTERS, baseline_filter
from scanner.models import Blob, Origin
from scanner.prefilter import Prefilter
from scanner.rules import load_ruleset
from scanner.samples import expand, pem

RULES = load_ruleset("default")
ENGINE = Engine(RULES)


def scan(text: str | bytes, engine: Engine = ENGINE, path: str = "app/settings.py"):
    data = text.encode() if isinstance(text, str) else text
    return engine.scan(Blob(data=data, origin=Origin(source="file", path=path)))


def google_pair(seed: str = "g") -> tuple[str, str, str]:
    client_id = expand("«digits:12»-«lower:32».apps.googleusercontent.com", seed)
    secret = expand("GOCSPX-«b64u:28»", seed)
    text = f'CLIENT_ID = "{client_id}"\nCLIENT_SECRET = "{secret}"\n'
    return text, client_id, secret


def test_google_secret_is_paired_with_its_client_id_and_located():
    text, client_id, secret = google_pair()
    [f] = scan(text).findings
    assert (f.rule_id, f.kind, f.provider) == (
        "google-oauth-client-secret",
        "client-secret",
        "google",
    )
    assert (f.line, f.column) == (2, 18)
    assert f.client_id == client_id and f.secret == secret


@pytest.mark.parametrize("native", [True, False])
def test_markers_are_reported_by_the_keyword_pass_without_changing_findings(native):
    engine = Engine(RULES, markers=(b"sourceMappingURL=data:",), native_prefilter=native)
    text, _, secret = google_pair("marked")
    assert scan("x = 1\n", engine).marked is False
    assert scan("//# SourceMappingURL=Data:x\n", engine).marked is True
    assert scan("//# sourceMappingURL=data:x\n", engine).findings == []
    both = scan(text + "//# sourceMappingURL=data:x\n", engine)
    assert both.marked is True
    assert [f.secret for f in both.findings] == [secret]
    assert scan(text).marked is False  # an engine without markers


def test_specific_rule_wins_over_generic_on_the_same_bytes():
    text, _, _ = google_pair()
    result = scan(text)
    assert [f.rule_id for f in result.findings] == ["google-oauth-client-secret"]
    assert result.dropped["superseded"] == 1


def test_key_block_is_one_finding_at_its_begin_line():
    key = pem("pkcs8-ec")
    [f] = scan("# config\n\n" + key).findings
    assert (f.rule_id, f.line, f.column, f.encrypted) == ("private-key-pem", 3, 1, False)


def test_fingerprint_is_location_independent_and_secret_specific():
    text, _, _ = google_pair("one")
    other, _, _ = google_pair("two")
    a = scan(text).findings[0]
    b = scan("\n\n\n" + text, path="elsewhere.py").findings[0]
    c = scan(other).findings[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.secret not in a.fingerprint


def test_allow_comment_drops_the_finding():
    secret = expand("GOCSPX-«b64u:28»", "allow")
    result = scan(f'secret = "{secret}"  # leakstop:allow\n')
    assert result.findings == [] and result.dropped["allow_comment"] == 1


def test_baseline_filter_drops_by_fingerprint():
    text, _, _ = google_pair()
    fingerprint = scan(text).findings[0].fingerprint
    engine = Engine(RULES, (*DEFAULT_FILTERS, baseline_filter({fingerprint})))
    assert scan(text, engine).findings == []


def test_explain_keeps_what_filters_dropped():
    engine = Engine(RULES, explain=True)
    result = scan('client_secret = "your-client-secret-here-1"\n', engine)
    assert result.findings == []
    assert [reason for reason, _ in result.explained] == ["placeholder"]


def test_native_and_fallback_prefilters_agree():
    text, _, _ = google_pair()
    data = (text + pem("rsa-pkcs1") + "\nGH_TOKEN=" + expand("ghp_«alnum:36»", "t")).encode()
    native = Prefilter(RULES.keywords)
    fallback = Prefilter(RULES.keywords, native=False)
    assert native.matches(data) == fallback.matches(data)
    slow = Engine(RULES, native_prefilter=False)
    assert [f.fingerprint for f in scan(data, slow).findings] == [
        f.fingerprint for f in scan(data).findings
    ]


def test_binary_junk_does_not_crash_and_keys_inside_are_found():
    junk = os.urandom(200_000)
    key = pem("rsa-pkcs1").encode()
    result = scan(junk[:100_000] + b"\n" + key + b"\n" + junk[100_000:], path="blob.bin")
    assert [f.rule_id for f in result.findings] == ["private-key-pem"]


def test_a_ten_megabyte_line_with_keywords_completes_and_finds_the_secret():
    secret = expand("GOCSPX-«b64u:28»", "long")
    noise = b"client_secret=" + b"A" * 64 + b"&gocspx-&-----BEGIN PRIVATE KEY-----"
    line = noise * (10_000_000 // len(noise))
    result = scan(line + f' "{secret}" '.encode() + line, path="bundle.min.js")
    assert secret in [f.secret for f in result.findings]
    assert all(e.startswith("bundle.min.js: ") for e in result.errors)


def test_a_ten_megabyte_minified_line_is_scanned_without_warnings():
    secret = expand("GOCSPX-«b64u:28»", "minified")
    chunk = b'function a(b){return b.clientId+":"+b.scope}var c={client_secret:d,e:1};'
    line = chunk * (10_000_000 // len(chunk))
    result = scan(line + f'var s="{secret}";'.encode() + line, path="app.min.js")
    assert [f.secret for f in result.findings] == [secret]
    assert result.errors == []


@pytest.mark.parametrize(
    "text",
    [
        "client_secret = os.environ['CLIENT_SECRET']",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "id = 123e4567-e89b-12d3-a456-426614174000 # secret",
    ],
)
def test_non_secrets_are_not_reported(text):
    assert scan(text).findings == []


def test_windows_around_keywords_find_what_a_whole_blob_search_finds():
    """Secrets deep inside large blobs, far from other keywords: the windowed search must
    report exactly what a search of the whole blob does, at the same lines."""
    text, _, _ = google_pair("deep")
    pieces = [
        text,
        pem("rsa-pkcs1"),
        expand(
            "OKTA_CLIENT_ID=0oa«alnum:17»\n" + "x = 1\n" * 3 + "OKTA_CLIENT_SECRET=«b64u:40»\n",
            "deep",
        ),
    ]
    filler = "".join(f"value_{i} = compute({i})\n" for i in range(8000))
    blob = filler + pieces[0] + filler + pieces[1] + "\n" + filler + pieces[2] + filler
    found = scan(blob).findings
    assert sorted(f.rule_id for f in found) == [
        "google-oauth-client-secret",
        "okta-client-secret",
        "private-key-pem",
    ]
    whole = Engine(RULES)
    whole.prefilter.hits = lambda data: {  # type: ignore[method-assign]
        kw: None for kw in Prefilter(RULES.keywords).hits(data)
    }
    assert [(f.rule_id, f.line, f.column) for f in scan(blob, whole).findings] == [
        (f.rule_id, f.line, f.column) for f in found
    ]


def test_a_match_cut_by_a_window_edge_is_redone_on_the_whole_blob():
    from scanner.engine import _window_matches
    from scanner.rules import compile_bytes

    pattern = compile_bytes(r"key=(?P<secret>[a-z]{4,})(?![a-z])")
    data = b"...key=abcdefghij..."
    [m] = list(_window_matches(pattern, data, [(0, 12)], 5.0))
    assert m.group("secret") == b"abcdefghij"

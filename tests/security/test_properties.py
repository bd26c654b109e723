"""Properties that must hold for any input (hypothesis):

- the engine never raises, whatever the bytes (random, or built from every rule's keywords,
  examples and key armour);
- the archive expander never raises on mutated real archives of every kind it opens, and a
  scan of what it yields never raises either;
- for any secret, in any report format (and the job summary and annotations), the secret never
  appears unredacted, in any of the encodings those formats use;
- a fingerprint does not move when the secret moves to another line, and two different
  secrets never share one;
- searching only windows around keyword hits finds exactly what searching the whole blob does.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scanner import engine as engine_module
from scanner import samples
from scanner.config import ArchiveLimits
from scanner.engine import Engine
from scanner.models import Blob, Finding, Origin, ScanResult, Summary, make_fingerprint
from scanner.redact import MARK
from scanner.report import FORMATS, reporter
from scanner.report.base import ReportOptions
from scanner.report.github import annotation, escape_data
from scanner.report.summary import summary_markdown
from scanner.rules import load_ruleset
from scanner.sources import artifacts
from scanner.sources.base import Problems
from tests.sources.artifacts_fixtures import (
    docker_save,
    jks_store,
    layer_tar,
    nested_zip,
    npm_tgz,
    pkcs12_store,
    tar_bytes,
    zip_bytes,
)

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def engine() -> Engine:
    return Engine(load_ruleset("all"))


@functools.cache
def snippets() -> tuple[bytes, ...]:
    """Pieces that reach deep into the engine: keywords, every rule's examples and
    counterexamples (expanded), key armour, quotes, separators and line ends."""
    rules = load_ruleset("all")
    pieces = [k.encode() for k in rules.keywords]
    for compiled in rules.rules:
        for text in (*compiled.rule.examples, *compiled.rule.counterexamples):
            pieces.append(samples.expand(text, "props").encode())
    pieces += [
        b"-----BEGIN PRIVATE KEY-----\n",
        b"-----END PRIVATE KEY-----\n",
        b"-----BEGIN OPENSSH PRIVATE KEY-----",
        b"PuTTY-User-Key-File-3: ssh-ed25519\n",
        b'{"kty":"RSA","d":"',
        b"\\n",
        b'"',
        b"'",
        b" = ",
        b": ",
        b"\n",
        b"\r\n",
        b"\x00",
        b"\xff\xfe",
    ]
    return tuple(pieces)


documents = st.lists(
    st.one_of(st.binary(max_size=64), st.sampled_from(snippets()).map(lambda b: b)),
    max_size=24,
).map(b"".join)


def blob(data: bytes, path: str = "doc.txt") -> Blob:
    return Blob(data=data, origin=Origin(source="file", path=path))


# ------------------------------------------------------------------------- never raises


@QUICK
@given(data=st.binary(max_size=4096))
def test_the_engine_never_raises_on_random_bytes(data: bytes) -> None:
    engine().scan(blob(data))


@QUICK
@given(data=documents, path=st.sampled_from(["a.py", "test_x.py", "a.env", "k.pem", "x.json"]))
def test_the_engine_never_raises_on_rule_shaped_bytes(data: bytes, path: str) -> None:
    result = engine().scan(blob(data, path))
    for finding in result.findings:
        assert finding.secret and finding.fingerprint.startswith(finding.rule_id + "/")


def _zip_every_method(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        methods = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
        for i, (name, text) in enumerate(files.items()):
            archive.writestr(name, text, compress_type=methods[i % len(methods)])
    return out.getvalue()


@functools.cache
def archives() -> tuple[tuple[str, bytes], ...]:
    secret = "oauth.client-secret=" + samples.expand("GOCSPX-«b64u:28»", "mutate") + "\n"
    files = {"a.properties": secret, "b/c.txt": "hello\n", "d.json": '{"x": 1}'}
    inner = zip_bytes(files)
    return (
        ("x.zip", _zip_every_method(files)),
        ("x.tar.gz", tar_bytes(files, mode="w:gz")),
        ("x.tar.bz2", tar_bytes(files, mode="w:bz2")),
        ("x.tar.xz", tar_bytes(files, mode="w:xz")),
        ("x.tgz", tar_bytes({"lib/inner.zip": inner, **files}, mode="w:gz")),
        ("x.jar", nested_zip(3, files)),
        ("p.tgz", npm_tgz(files)),
        ("image.tar", docker_save([layer_tar(files), layer_tar({"e": "f"}, whiteouts=["d.json"])])),
        ("k.p12", pkcs12_store(b"changeit")),
        ("k.jks", jks_store(bytes(range(64)), "changeit")),
        (
            "app.js.map",
            json.dumps({"version": 3, "sources": ["s.ts"], "sourcesContent": [secret]}).encode(),
        ),
    )


LIMITS = ArchiveLimits(max_expanded_bytes=16 << 20, max_seconds=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 10),
    cut=st.integers(0, 1 << 16),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6),
    rename=st.booleans(),
)
def test_the_expander_and_the_engine_never_raise_on_mutated_archives(
    which: int, cut: int, flips: list[tuple[int, int]], rename: bool
) -> None:
    name, sample = archives()[which % len(archives())]
    data = bytearray(sample[: max(1, len(sample) - cut % len(sample))])
    for position, value in flips:
        data[position % len(data)] = value
    if rename:
        name = archives()[(which + 1) % len(archives())][0]
    problems = Problems()
    for out in artifacts.expand(blob(bytes(data), name), LIMITS, problems):
        engine().scan(out)
    assert all(isinstance(e, str) for e in problems.errors)


def test_every_truncation_of_a_nested_archive_is_harmless() -> None:
    secret = "oauth.client-secret=" + samples.expand("GOCSPX-«b64u:28»", "cut") + "\n"
    data = zip_bytes({"lib/inner.tgz": tar_bytes({"a.properties": secret}, mode="w:gz")})
    for end in range(len(data)):
        for out in artifacts.expand(blob(data[:end], "cut.zip"), LIMITS, Problems()):
            engine().scan(out)


# ------------------------------------------------------------------------- redaction


def _encodings(fragment: str) -> set[str]:
    """How a fragment of a secret could look in each output format."""
    return {
        fragment,
        json.dumps(fragment)[1:-1],
        json.dumps(fragment, ensure_ascii=False)[1:-1],
        escape_data(fragment),
        quote(fragment, safe=""),
    }


def _rendered(finding: Finding) -> dict[str, str]:
    result = ScanResult(findings=(finding,), summary=Summary(findings=1))
    outputs = {}
    for fmt in FORMATS:
        out = io.StringIO()
        reporter(fmt)(result, out, ReportOptions(show_secrets=False))
        outputs[fmt] = out.getvalue()
    outputs["summary"] = summary_markdown(result, scope="test")
    outputs["annotation"] = annotation(finding, ReportOptions(show_secrets=False))
    return outputs


def _finding(secret: str, kind: str) -> Finding:
    return Finding(
        rule_id="some-rule",
        kind=kind,  # type: ignore[arg-type]
        provider="generic",
        origin=Origin(source="file", path="app/settings.py", root="."),
        line=3,
        column=7,
        secret=secret,
        fingerprint=make_fingerprint("some-rule", secret),
    )


secret_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=16,
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(secret=secret_text, kind=st.sampled_from(["client-secret", "token", "client-id"]))
def test_a_secret_never_appears_unredacted_in_any_format(secret: str, kind: str) -> None:
    assume(MARK not in secret)
    body = secret[4:]
    shown = _rendered(_finding(secret, kind))
    baseline = _rendered(_finding("Q" * len(secret), kind))  # what any report says anyway
    for fmt, text in shown.items():
        for form in _encodings(body):
            if form and form in text and form not in baseline[fmt]:
                pytest.fail(f"{fmt} shows the secret's body: {text!r}")


KEY_HEADERS = [
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----",
    "PuTTY-User-Key-File-3: ssh-rsa",
    "{",
    "",
]
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@settings(max_examples=200, deadline=None)
@given(
    header=st.sampled_from(KEY_HEADERS),
    lines=st.lists(st.text(BASE64, min_size=20, max_size=64), min_size=1, max_size=8),
    escaped=st.booleans(),
)
def test_a_key_body_never_appears_in_any_format(
    header: str, lines: list[str], escaped: bool
) -> None:
    newline = "\\n" if escaped else "\n"
    secret = newline.join([header, *lines, "-----END PRIVATE KEY-----"])
    other = newline.join([header, *("Q" * len(ln) for ln in lines), "-----END PRIVATE KEY-----"])
    baseline = _rendered(_finding(other, "private-key"))
    for fmt, text in _rendered(_finding(secret, "private-key")).items():
        for line in lines:
            for form in _encodings(line):
                assert form not in text or form in baseline[fmt], (fmt, text)


# ------------------------------------------------------------------------- fingerprints

SECRET_EXAMPLES = [
    (c.rule.id, example)
    for c in load_ruleset("all").rules
    if c.rule.kind in ("client-secret", "token")
    for example in c.rule.examples
    if "«key" not in example
]
filler_line = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd", "Zs"), max_codepoint=0x7F),
    max_size=40,
)


def _fingerprints(text: str, path: str = "app/config.env") -> set[str]:
    return {f.fingerprint for f in engine().scan(blob(text.encode(), path)).findings}


@QUICK
@given(
    example=st.sampled_from(SECRET_EXAMPLES),
    seed=st.text(max_size=8),
    above=st.lists(filler_line, max_size=30),
    below=st.lists(filler_line, max_size=5),
)
def test_a_fingerprint_does_not_move_with_its_line(
    example: tuple[str, str], seed: str, above: list[str], below: list[str]
) -> None:
    _rule, template = example
    text = samples.expand(template, seed)
    alone = _fingerprints(text + "\n")
    assume(alone)
    moved = _fingerprints("\n".join([*above, text, *below]) + "\n")
    assert alone <= moved


@QUICK
@given(example=st.sampled_from(SECRET_EXAMPLES), one=st.text(max_size=8), two=st.text(max_size=8))
def test_different_secrets_never_share_a_fingerprint(
    example: tuple[str, str], one: str, two: str
) -> None:
    rule_id, template = example
    first = [
        f
        for f in engine().scan(blob(samples.expand(template, one).encode())).findings
        if f.rule_id == rule_id
    ]
    second = [
        f
        for f in engine().scan(blob(samples.expand(template, two).encode())).findings
        if f.rule_id == rule_id
    ]
    for a in first:
        for b in second:
            assert (a.secret == b.secret) == (a.fingerprint == b.fingerprint)


@functools.cache
def _keys() -> tuple[str, ...]:
    return tuple(samples.pem(fmt) for fmt in ("pkcs8-ec", "rsa-pkcs1", "openssh", "jwk-ec"))


@settings(max_examples=60, deadline=None)
@given(which=st.integers(0, 3), above=st.lists(filler_line, max_size=20), crlf=st.booleans())
def test_a_key_fingerprint_does_not_move_with_its_line(
    which: int, above: list[str], crlf: bool
) -> None:
    key = _keys()[which]
    alone = _fingerprints(key, "k.pem")
    assert alone
    text = "\n".join([*above, key])
    if crlf:
        text = text.replace("\n", "\r\n")
    assert _fingerprints(text, "k.pem") == alone
    others = {f for i, k in enumerate(_keys()) if i != which for f in _fingerprints(k, "k.pem")}
    assert not alone & others


# ------------------------------------------------------------------------- windows


def _everything(data: bytes, path: str) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.line, f.column, f.secret, f.fingerprint, f.client_id, f.attributes)
        for f in engine().scan(blob(data, path)).findings
    ]


spaced = st.lists(
    st.one_of(
        st.sampled_from(snippets()),
        st.integers(0, 6000).map(lambda n: b" " * n),
        st.integers(0, 200).map(lambda n: b"x = 1\n" * n),
        st.binary(max_size=40),
    ),
    max_size=16,
).map(b"".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=spaced, path=st.sampled_from(["a.py", "a.env", "k.pem", "x.json"]))
def test_windows_find_what_the_whole_blob_finds(
    data: bytes, path: str, monkeypatch_whole: Callable[[], Any]
) -> None:
    windowed = _everything(data, path)
    with monkeypatch_whole():
        whole = _everything(data, path)
    assert windowed == whole


@pytest.fixture(scope="module")
def monkeypatch_whole() -> Callable[[], Any]:
    """A context in which the engine searches every rule over the whole blob."""
    import contextlib

    @contextlib.contextmanager
    def whole() -> Any:
        original = engine_module.search_windows
        engine_module.search_windows = lambda _ends, _reach, size: [(0, size)]  # type: ignore[assignment]
        try:
            yield
        finally:
            engine_module.search_windows = original

    return whole

"""Filters drop candidates that rules proposed: placeholders, templating, code references,
inline allow comments and baselines. Each is a small named function so a report can say which
filter dropped what (``--explain``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from scanner.rules import Rule

ALLOW_MARKER = "leakstop:allow"


@dataclass(frozen=True)
class Candidate:
    """A rule match with the context filters need; never leaves the engine."""

    rule: Rule
    secret: str
    fingerprint: str
    quoted: bool
    line_text: str
    previous_line_text: str
    following: str
    """A few characters right after the secret."""
    path: str | None

    @property
    def before(self) -> str:
        """The text on the secret's line before it: the key and the separator, usually."""
        i = self.line_text.find(self.secret)
        return self.line_text[:i] if i >= 0 else ""

    @property
    def literal(self) -> bool:
        """Whether the value is written as a quoted string literal."""
        return self.quoted or self.before.rstrip()[-1:] in ('"', "'", "`")


Filter = Callable[[Candidate], bool]

_PLACEHOLDER_WORDS = re.compile(
    r"example|changeme|change[_-]me|replace[_-]?(?:me|this|with)|placeholder|your[_-]?|"
    r"dummy|redacted|sample|insert[_-]|xxxx|\*\*\*|\.\.\.|todo|fixme|notreal|not[_-]a[_-]real|"
    r"fake|secret[_-]?here|goes[_-]?here|<|>|0123456789|1234567890|abcdefgh|qwerty",
    re.IGNORECASE,
)
_TEMPLATING = re.compile(r"\$\{|\{\{|\}\}|%\(|\)s\b|@@|^__.*__$|^\$[A-Z_]+$|^%[A-Z_]+%$")
_REPEATED = re.compile(r"(.)\1{5,}")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOTTED_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
# Source files of languages where a literal is always quoted: an unquoted value there is an
# identifier or an expression (minified bundles: ``clientSecret: _0x…`` obfuscator names).
_CODE_FILE = re.compile(
    r"\.(?:[cm]?js|jsx|tsx?|py|java|kts?|go|cs|rb|php|swift|scala|rs|dart|groovy|c|h|cc|cpp|hpp|"
    r"m|mm|tf|hcl)$",
    re.IGNORECASE,
)
_COMMENT_LINE = re.compile(r"^\s*(?:#|//|/\*|\*|--|<!--)")
# A value made of words: a name, a path or a reference to a secret, not the secret itself
# (``oidc-client-secret-2``, ``secret/oauth2``, ``orders-api-client-secret-v2``), or the name
# of the environment variable that holds it (``OAUTH2_CLIENT_SECRET_V2``).
_NAME_LIKE = re.compile(
    r"^(?:[a-z]+[0-9]*(?:[-_./:](?:[a-z]+[0-9]*|[0-9]{1,4}))+"
    r"|[A-Z]+[0-9]*(?:_(?:[A-Z]+[0-9]*|[0-9]{1,4}))+)$"
)
# The key says the value is derived from the secret (a stored hash), not the secret.
_HASH_WORD = re.compile(
    r"^(?:sha\d*|md5|hash(?:ed)?|digest|checksum|fingerprint|hmac|bcrypt|crc\d*)$", re.IGNORECASE
)
_KEY_TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")
_KEY_WORD = re.compile(r"[A-Z]{2,}\d*(?![a-z])|[A-Z]?[a-z]+\d*|\d+")
# Ciphertext of a cloud KMS (AWS: a version-1 blob header; Google: a protobuf header): safe to
# commit by design.
_CIPHERTEXT = re.compile(r"^(?:AQICAH|CiQA)[A-Za-z0-9+/]{60,}={0,2}$")
_ENV_LOOKUP = re.compile(
    r"environ|getenv|process\.env|System\.getenv|ENV\[|Environment\.|secrets\.|vault:|"
    r"valueFrom|secretKeyRef|config\.get|settings\.",
    re.IGNORECASE,
)


def placeholder(c: Candidate) -> bool:
    """Documentation values: 'your-client-secret', 'changeme', 'xxxx…', '<CLIENT_SECRET>'."""
    if c.rule.kind == "private-key":
        return False
    s = c.secret
    return bool(_PLACEHOLDER_WORDS.search(s) or _REPEATED.search(s) or len(set(s)) <= 3)


def templating(c: Candidate) -> bool:
    """Values filled in later by a template engine or the shell: ``${X}``, ``{{ x }}``."""
    return c.rule.kind != "private-key" and bool(_TEMPLATING.search(c.secret))


def code_reference(c: Candidate) -> bool:
    """An unquoted value that is code, not a literal: a call, an index, an attribute path or an
    environment lookup (``os.environ[...]``, ``settings.CLIENT_SECRET``, ``getSecret()``), or
    an unquoted operand in source code, outside comments and strings: literals there are
    quoted, so an obfuscated ``_0x…`` name after ``clientSecret:`` in a bundle, or a variable
    passed as ``client_secret`` in a call, is an identifier. (At the end of a line it may be
    a heredoc or docstring: kept.)"""
    if c.rule.kind == "private-key":
        return False
    if _ENV_LOOKUP.search(c.secret):
        return True
    if c.literal:
        return False
    if c.following[:1] in ("(", "[") or _DOTTED_IDENTIFIER.match(c.secret):
        return True
    operand = c.following[:1] in (",", ";", ")", "}")
    return operand and bool(c.path and _CODE_FILE.search(c.path)) and not _literal_context(c)


def _literal_context(c: Candidate) -> bool:
    """An unquoted value in source code that is still text: in a comment, or inside a string
    (``"...?client_secret=abc&..."``), judged by the quotes before it on its line."""
    if _COMMENT_LINE.match(c.line_text):
        return True
    before = c.before.replace("\\\\", "")
    return any((before.count(q) - before.count("\\" + q)) % 2 for q in ('"', "'", "`"))


def hash_of_secret(c: Candidate) -> bool:
    """The key names a hash or digest of the secret (``CLIENT_SECRET_SHA256``,
    ``hashed_client_secret``, ``clientSecretHash``): what a server stores, not the secret."""
    if c.rule.kind == "private-key":
        return False
    key = next((t for t in reversed(_KEY_TOKEN.findall(c.before)) if "secret" in t.lower()), "")
    return any(_HASH_WORD.match(word) for word in _KEY_WORD.findall(key))


def name_like(c: Candidate) -> bool:
    """A value made of words (lower-case joined by - _ . / :, or an UPPER_SNAKE variable name)
    is the name of a secret or a path to it, never an issued secret (those are random)."""
    return c.rule.kind != "private-key" and bool(_NAME_LIKE.match(c.secret))


def encrypted_value(c: Candidate) -> bool:
    """Ciphertext from a cloud KMS, meant to be committed (the key never leaves the KMS)."""
    return c.rule.kind != "private-key" and bool(_CIPHERTEXT.match(c.secret))


def allow_comment(c: Candidate) -> bool:
    """``leakstop:allow`` on the finding's line or the line above it."""
    return ALLOW_MARKER in c.line_text or ALLOW_MARKER in c.previous_line_text


def baseline_filter(fingerprints: Collection[str]) -> Filter:
    """Drop what an accepted baseline already lists (by fingerprint only)."""

    def baseline(c: Candidate) -> bool:
        return c.fingerprint in fingerprints

    return baseline


DEFAULT_FILTERS: tuple[Filter, ...] = (
    placeholder,
    templating,
    code_reference,
    hash_of_secret,
    name_like,
    encrypted_value,
    allow_comment,
)


def value_check_failures(rule: Rule, secret: str) -> str | None:
    """The first of a rule's value checks (entropy, has-digit, ...) that ``secret`` fails."""
    if rule.entropy is not None and shannon_entropy(secret) < rule.entropy:
        return "low-entropy"
    for check in rule.checks:
        if check == "has-digit" and not any(ch.isdigit() for ch in secret):
            return check
        if check == "has-letter" and not any(ch.isalpha() for ch in secret):
            return check
        if check == "not-uuid" and _UUID.match(secret):
            return check
        if check == "not-code-reference" and _DOTTED_IDENTIFIER.match(secret):
            return check
    return None


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


_TEST_DIRS = frozenset(
    {
        "test",
        "tests",
        "testdata",
        "test-data",
        "test_data",
        "fixtures",
        "fixture",
        "__tests__",
        "spec",
        "specs",
        "testing",
        "mocks",
        "__mocks__",
        "examples",
        "example",
        "samples",
    }
)
# test_x.py, tests.py, tests-cookbook.py, x_test.go, x-test.js, x.test.ts, x.spec.ts
_TEST_FILE = re.compile(
    r"(?:^tests?[-_.]|[-_.]tests?\.|\.spec\.|^conftest\.py$|fake|mock|dummy|example|sample)",
    re.IGNORECASE,
)


# Private keys that software publishes on purpose, by RFC 7638 thumbprint (or, for keys without
# one, by finding fingerprint): wherever one is found it is reported with confidence
# "test-fixture", never hidden (a published key used in production is still a problem). Each
# entry says where the key ships; benchmarks/accuracy/triage.toml lists the scan that found it.
_GNUTLS = (
    "GnuTLS: a key of its algorithm self-tests (lib/crypto-selftests-pk.c), built into libgnutls"
)
KNOWN_TEST_KEYS: dict[str, str] = {
    "P0g1H-5ysy7yOMThSUahPzqN526L9U0Y9_v427L46y8": (
        "moto (PyPI): moto_proxy/ca.key, the CA of the HTTPS-intercepting proxy of its AWS mocks"
    ),
    "vZRyDxw5__ONI06pY2OEIbQ9ztKs7MdmIl1qN0ezFpY": (
        "moto (PyPI): moto_proxy/cert.key, the certificate key of the same test proxy"
    ),
    "DThM452l6A6MKX8FOZQarky5V3qqRNx2uSWRZEF_j4A": (
        "moto (PyPI): cognitoidp/resources/jwks-private.json, the mock Cognito's signing key"
    ),
    "fjmRK54wLQFceVmc9bSiebf30XbYuE0bZ5qawlQkuTA": (
        "CMake: Templates/Windows/Windows_TemporaryKey.pfx, the placeholder signing key of "
        "generated Windows Store projects"
    ),
    "j9PNlUKw3PWSUm5Rm5NOs3sCBZ5DL6pN7n8iJeKtEPQ": _GNUTLS + " (Ed448)",
    "x1VpS9atbEVzj8q7ntEdjIYkXf3_uEIPlrO9o9Y60RU": _GNUTLS + " (Ed25519)",
    "private-key-pem:003cc63927b31514f9365c3d8d8b279d": _GNUTLS + " (GOST R 34.10-2012 512)",
    "private-key-pem:7d1af1e9fa2e1dc983e22c66894ef86c": _GNUTLS + " (GOST R 34.10-2012 256)",
    "private-key-pem:66aefba13ce815a6ff26663773b4fdce": _GNUTLS + " (GOST R 34.10-2001)",
    "eSs03d6PaD4VTnOUGL-JM9pwPD_kHzPBL_o1ZajWPxY": _GNUTLS + " (ECDSA P-384)",
    "private-key-pem:46dfb8df0207abbca73ab4004699598e": _GNUTLS + " (ECDSA P-224)",
    "private-key-pem:658923d8598c8132876655da19424dfd": _GNUTLS + " (ECDSA P-192)",
    "xypKqSP2UQkzCT9yITDfm96QTR8Y6rmJR0TOlWZZ8GA": _GNUTLS + " (ECDSA P-256)",
    "private-key-pem:05d6b9b8355fb9d7e8d6f4f49fa5aab8": _GNUTLS + " (DSA)",
    "5lZC6LIhV1KTWomnmyOuuOAvXqlNAVte7wK59E17KW0": _GNUTLS + " (RSA 2048)",
}


def finding_confidence(
    path: str | None, key_thumbprint: str | None = None, fingerprint: str | None = None
) -> str:
    """'test-fixture' where the location says test or sample, or for a key that software
    publishes on purpose (KNOWN_TEST_KEYS); 'high' otherwise."""
    if (key_thumbprint or fingerprint or "") in KNOWN_TEST_KEYS:
        return "test-fixture"
    return location_confidence(path)


def location_confidence(path: str | None) -> str:
    """'test-fixture' for a location that says the value is a test key or sample; such
    findings are reported, labelled, never hidden."""
    if not path:
        return "high"
    inner = path.rsplit("!", 1)[-1]
    parts = inner.replace("\\", "/").split("/")
    if any(p.lower() in _TEST_DIRS for p in parts[:-1]) or _TEST_FILE.search(parts[-1]):
        return "test-fixture"
    return "high"

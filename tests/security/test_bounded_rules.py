"""Promise: no content makes the rules run away. Every rule of the ``all`` ruleset, together,
meets 5 MB single lines built to hurt regexes: every keyword repeated, every rule's own
examples cut just short (near misses, and a flood of real matches), base64 noise sown with
keywords, keywords followed by endless runs of secret characters, and PEM armour that never
ends. Each run must finish within a generous bound (printed: ``pytest -s``); a rule that
gives up on pathological content says so in a warning rather than stalling the scan."""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable

import pytest

from scanner import samples
from scanner.engine import Engine
from scanner.models import Blob, Origin
from scanner.rules import Ruleset, load_ruleset

SIZE = 5 << 20
SECONDS_BOUND = 60.0


def _fill(unit: bytes) -> bytes:
    return (unit * (SIZE // max(1, len(unit)) + 1))[:SIZE]


def _keywords(rules: Ruleset) -> list[bytes]:
    return [k.encode() for k in rules.keywords]


def repeated_keywords(rules: Ruleset) -> bytes:
    seps = (b"=", b'="', b": ", b"':'", b" ", b"_", b"-", b".")
    return _fill(b"".join(k + s for k in _keywords(rules) for s in seps))


def near_misses(rules: Ruleset) -> bytes:
    unit = b""
    for compiled in rules.rules:
        for example in compiled.rule.examples:
            text = samples.expand(example, "near-miss").encode().replace(b"\n", b" ")
            unit += text[:-1] + b" " + text[:-3] + b" " + text[: len(text) // 2] + b" "
    return _fill(unit)


def base64_noise(rules: Ruleset) -> bytes:
    rng = random.Random(5)
    noise = bytearray(base64.b64encode(rng.randbytes(SIZE))[:SIZE])
    keywords = _keywords(rules)
    for n, at in enumerate(range(0, SIZE - 64, 997)):
        kw = keywords[n % len(keywords)]
        noise[at : at + len(kw)] = kw
    return bytes(noise)


def endless_values(rules: Ruleset) -> bytes:
    run = b"aB3" * 20_000  # 60 kB of secret characters, never closed
    return _fill(b"".join(k + b' = "' + run + b"\n" for k in _keywords(rules)).replace(b"\n", b" "))


def endless_armour(_rules: Ruleset) -> bytes:
    body = base64.b64encode(bytes(range(256)) * 3)
    unit = b"-----BEGIN PRIVATE KEY-----" + body + b"-----BEGIN RSA PRIVATE KEY-----\\n"
    unit += b"PuTTY-User-Key-File-3: ssh-rsa " + body + b'{"kty":"RSA","d":"' + body + b'",'
    return _fill(unit)


INPUTS: dict[str, Callable[[Ruleset], bytes]] = {
    "repeated keywords": repeated_keywords,
    "near misses": near_misses,
    "base64 noise": base64_noise,
    "endless values": endless_values,
    "endless armour": endless_armour,
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_every_rule_on_a_hostile_5_mb_line_finishes_in_bounded_time(name: str) -> None:
    rules = load_ruleset("all")
    engine = Engine(rules)
    data = INPUTS[name](rules)
    assert len(data) == SIZE and data.count(b"\n") <= 1
    started = time.monotonic()
    result = engine.scan(Blob(data=data, origin=Origin(source="file", path="hostile.txt")))
    seconds = time.monotonic() - started
    gave_up = [e for e in result.errors if "gave up" in e or "stopped after" in e]
    print(
        f"\n{name}: {len(rules.rules)} rules, {seconds:.1f}s, {len(result.findings)} findings,"
        f" {len(gave_up)} rules gave up"
    )
    assert seconds < SECONDS_BOUND, (name, seconds)
    assert all(e.startswith("hostile.txt: rule ") for e in result.errors)

# TEMPORARY local stand-in until the keys branch merges; never committed.
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyInfo:
    format: str
    algorithm: str | None
    encrypted: bool
    thumbprint: str | None = None


def normalize_key_text(text: str) -> str:
    return text.replace("\\n", "\n")


def inspect_key(text: str) -> KeyInfo | None:
    t = normalize_key_text(text)
    if "PRIVATE KEY" in t or "PuTTY" in t or '"d"' in t:
        return KeyInfo("x", None, "ENCRYPTED" in t or "Encryption: aes" in t)
    return None

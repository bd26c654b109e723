"""Redaction: how a secret may appear in any output unless ``--show-secrets`` is given."""

from __future__ import annotations

MARK = "…redacted…"


def redact(secret: str, kind: str) -> str:
    """A short, non-secret prefix and a marker. Keys keep their BEGIN line (public framing);
    other secrets keep at most four characters, none if they are short."""
    if kind == "private-key":
        first = secret.strip().splitlines()[0] if secret.strip() else ""
        header = first.split("\\n", 1)[0]
        if header.startswith("-----BEGIN") and header.endswith("-----") and len(header) < 64:
            return header + MARK
        if header.startswith("PuTTY-User-Key-File-") and len(header) < 64:
            return header + MARK
        return MARK
    keep = 4 if len(secret) >= 16 else 0
    return secret[:keep] + MARK


def shown(secret: str, kind: str, show_secrets: bool) -> str:
    return secret if show_secrets else redact(secret, kind)

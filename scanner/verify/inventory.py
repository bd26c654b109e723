"""Offline match against the registry: which registered client a found secret or key belongs
to, without any network call.

A secret matches by the SHA-256 in ``secret_sha256``; when a loaded report has the secret
redacted, by the hash prefix its fingerprint carries (rule id + first 32 hex digits of the
secret's SHA-256). A private key matches by its RFC 7638 thumbprint in ``jwk_thumbprints``.
"""

from __future__ import annotations

from scanner.models import fingerprint_hash, secret_hash
from scanner.registry import Client, Registry

FINGERPRINT_HASH_LENGTH = 32


class Inventory:
    """Indexes of a registry's credential hashes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._secrets: dict[str, list[Client]] = {}
        self._prefixes: dict[str, list[Client]] = {}
        self._thumbprints: dict[str, list[Client]] = {}
        for client in registry.clients:
            for digest in client.secret_sha256:
                self._secrets.setdefault(digest, []).append(client)
                self._prefixes.setdefault(digest[:FINGERPRINT_HASH_LENGTH], []).append(client)
            for thumbprint in client.jwk_thumbprints:
                self._thumbprints.setdefault(thumbprint, []).append(client)

    def for_secret(self, secret: str | None, fingerprint: str = "") -> tuple[Client, ...]:
        """Clients that registered this secret (by its hash, else by the fingerprint's)."""
        if secret:
            return tuple(self._secrets.get(secret_hash(secret), ()))
        prefix = fingerprint_hash(fingerprint)
        if len(prefix) == FINGERPRINT_HASH_LENGTH:
            return tuple(self._prefixes.get(prefix.lower(), ()))
        return ()

    def for_key(self, thumbprint: str | None) -> tuple[Client, ...]:
        """Clients that registered a key with this RFC 7638 thumbprint."""
        return tuple(self._thumbprints.get(thumbprint, ())) if thumbprint else ()

    def for_client_id(self, client_id: str | None) -> tuple[Client, ...]:
        return self.registry.clients_with_id(client_id) if client_id else ()

    @property
    def key_sources(self) -> tuple[Client, ...]:
        """Clients whose registered keys can be fetched (jwks_uri or RFC 7592 read)."""
        return tuple(
            c
            for c in self.registry.clients
            if c.issuer and (c.jwks_uri or c.registration_client_uri)
        )

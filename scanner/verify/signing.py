"""Private keys as client credentials: the JWS algorithms a found key can sign with, RFC 7523
client assertions, and the throwaway keys of control requests. (Parsing keys and their RFC
7638 thumbprints is ``scanner.keys``'s job.)"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import OKPAlgorithm

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60
_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512", "secp256k1": "ES256K"}
_RSA_ALGS = ("RS256", "PS256", "RS384", "PS384", "RS512", "PS512")


def algorithms_for(key: Any, supported: Sequence[str] | None = None) -> list[str]:
    """JWS algorithms to try with ``key``, most common first, restricted to what the server
    says it supports (when it says). At most two: each try costs a request."""
    if isinstance(key, rsa.RSAPrivateKey):
        family: Sequence[str] = _RSA_ALGS
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        alg = _EC_ALGS.get(key.curve.name)
        family = (alg,) if alg else ()
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        family = ("EdDSA", "Ed25519")
    elif isinstance(key, ed448.Ed448PrivateKey):
        family = ("EdDSA", "Ed448")
    else:
        family = ()
    if supported:
        return [a for a in family if a in supported][:2]
    return list(family[:2])


def client_assertion(
    client_id: str, key: Any, alg: str, audience: str, *, kid: str | None = None
) -> str:
    """An RFC 7523 client assertion: iss = sub = client_id, aud, a fresh jti, a short exp."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    }
    return _jws().encode(
        json.dumps(claims).encode(), key, algorithm=alg, headers={"kid": kid} if kid else None
    )


@cache
def control_key(kind: str) -> Any:
    """A throwaway key of the same type as a found key, registered nowhere: what a control
    request signs with to see how the server answers an unknown key."""
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind.startswith("EC:"):
        return ec.generate_private_key(_curve(kind))
    if kind == "Ed448":
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


def key_kind(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC:{key.curve.name}"
    if isinstance(key, ed448.Ed448PrivateKey):
        return "Ed448"
    return "Ed25519"


# --------------------------------------------------------------------------- helpers


def _curve(kind: str) -> ec.EllipticCurve:
    curves: dict[str, ec.EllipticCurve] = {
        "secp384r1": ec.SECP384R1(),
        "secp521r1": ec.SECP521R1(),
        "secp256k1": ec.SECP256K1(),
    }
    return curves.get(kind.removeprefix("EC:"), ec.SECP256R1())


@cache
def _jws() -> jwt.PyJWS:
    jws = jwt.PyJWS()
    for name in ("Ed25519", "Ed448"):
        if name not in jws.get_algorithms():
            jws.register_algorithm(name, OKPAlgorithm())
    return jws

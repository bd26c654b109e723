"""Signing with found keys: algorithms, RFC 7523 client assertions, control keys."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from scanner import samples
from scanner.verify.signing import algorithms_for, client_assertion, control_key, key_kind


def test_algorithms():
    assert algorithms_for(samples.private_key("rsa")) == ["RS256", "PS256"]
    assert algorithms_for(samples.private_key("rsa"), ["PS256", "ES256"]) == ["PS256"]
    assert algorithms_for(samples.private_key("ec")) == ["ES256"]
    assert algorithms_for(ec.generate_private_key(ec.SECP384R1())) == ["ES384"]
    assert algorithms_for(samples.private_key("ed25519")) == ["EdDSA", "Ed25519"]
    assert algorithms_for(samples.private_key("ed25519"), ["Ed25519"]) == ["Ed25519"]
    assert algorithms_for(samples.private_key("dsa")) == []


@pytest.mark.parametrize(
    "key", [rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()]
)
def test_client_assertion_claims(key):
    alg = algorithms_for(key)[0]
    token = client_assertion("orders", key, alg, "https://idp.example/token", kid="k1")
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    claims = jwt.decode(
        token, key.public_key(), algorithms=[alg], audience="https://idp.example/token"
    )
    assert claims["iss"] == claims["sub"] == "orders"
    assert 0 < claims["exp"] - claims["iat"] <= 60
    assert len(claims["jti"]) >= 16
    again = jwt.decode(
        client_assertion("orders", key, alg, "https://idp.example/token"),
        key.public_key(),
        algorithms=[alg],
        audience="https://idp.example/token",
    )
    assert again["jti"] != claims["jti"]


@pytest.mark.parametrize(
    "key",
    [
        samples.private_key("rsa"),
        samples.private_key("ec"),
        ec.generate_private_key(ec.SECP384R1()),
        samples.private_key("ed25519"),
    ],
    ids=["rsa", "p256", "p384", "ed25519"],
)
def test_control_keys_have_the_same_type_and_are_fresh(key):
    control = control_key(key_kind(key))
    assert key_kind(control) == key_kind(key)
    assert control is not key
    assert algorithms_for(control) == algorithms_for(key)

"""Keystores: the private key inside a PKCS#12 or Java keystore is a finding, opened when its
password is empty or guessable (which the finding says, never the password), reported as
encrypted otherwise; fingerprints are stable and follow the key, not the file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from scanner import keys
from scanner.config import ArchiveLimits
from scanner.sources import keystores
from tests.sources.artifacts_fixtures import (
    jks_store,
    pkcs12_legacy,
    pkcs12_store,
    scan_bytes,
    zip_bytes,
)

STRONG = b"k7#Qz!v9Lr2@wX5p"


def keystore_findings(scan):
    return [f for f in scan.findings if f.kind == "private-key"]


def test_pkcs12_with_an_empty_password_reports_the_usable_key():
    scan = scan_bytes(pkcs12_store(None, alias=b"signing"), "certs/client.p12")
    [found] = keystore_findings(scan)
    assert (found.rule_id, found.origin.path, found.line, found.column) == (
        "private-key-pkcs12", "certs/client.p12", 1, 1,
    )  # fmt: skip
    assert found.encrypted is False
    attrs = found.attrs
    assert attrs["protection"] == "empty-password" and attrs["entry"] == "1"
    assert attrs["alias"] == "signing" and attrs["algorithm"] == "EC"
    assert found.fingerprint == f"private-key-pkcs12/{_hash(attrs['jwk_thumbprint'])}"
    assert keys.load_private_key(found.secret) is not None  # verification can sign with it
    assert "empty password" in (found.origin.note or "")


def test_pkcs12_with_a_guessable_password_says_so_without_the_password():
    scan = scan_bytes(pkcs12_store(b"changeit"), "server.pfx")
    [found] = keystore_findings(scan)
    assert found.attrs["protection"] == "guessable-password" and not found.encrypted
    everything = repr(found) + repr(found.attributes) + (found.origin.note or "")
    assert "changeit" not in everything


def test_google_legacy_service_account_password_is_guessable():
    [found] = keystore_findings(scan_bytes(pkcs12_store(b"notasecret"), "sa-key.p12"))
    assert found.attrs["protection"] == "guessable-password"


def test_pkcs12_with_a_strong_password_reports_the_key_encrypted():
    scan = scan_bytes(pkcs12_store(STRONG), "deploy/keystore.p12")
    [found] = keystore_findings(scan)
    assert found.rule_id == "private-key-pkcs12" and found.encrypted is True
    assert found.attrs["protection"] == "password"
    assert found.attrs["key_format"] == "pkcs8-encrypted"
    assert found.secret.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert STRONG.decode() not in repr(found)


def test_legacy_3des_pkcs12_locked_and_open():
    [locked] = keystore_findings(scan_bytes(pkcs12_legacy(STRONG), "old.pfx"))
    assert locked.encrypted and locked.attrs["protection"] == "password"
    [opened] = keystore_findings(scan_bytes(pkcs12_legacy(b"password"), "old.pfx"))
    assert not opened.encrypted and opened.attrs["protection"] == "guessable-password"


def test_pkcs12_is_recognised_by_structure_not_name():
    [found] = keystore_findings(scan_bytes(pkcs12_store(None), "build/output.bin"))
    assert found.rule_id == "private-key-pkcs12"


def test_pkcs12_inside_an_archive():
    data = zip_bytes({"WEB-INF/classes/keystore.p12": pkcs12_store(None)})
    [found] = keystore_findings(scan_bytes(data, "app.war"))
    assert found.origin.path == "app.war!WEB-INF/classes/keystore.p12"
    assert found.origin.source == "archive"


def test_fingerprints_are_stable_across_runs_and_follow_the_key():
    for store in (pkcs12_store(None), pkcs12_store(STRONG)):
        first = keystore_findings(scan_bytes(store, "a.p12"))
        again = keystore_findings(scan_bytes(store, "elsewhere/b.p12"))
        assert [f.fingerprint for f in first] == [f.fingerprint for f in again]


def test_a_truststore_without_keys_is_not_a_finding():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    store = pkcs12.serialize_key_and_certificates(b"ca", None, cert, None, NoEncryption())
    scan = scan_bytes(store, "truststore.p12")
    assert not scan.findings and not scan.problems.errors


def test_hand_built_jks_opens_with_a_guessable_password_and_stays_locked_otherwise():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    [opened] = keystore_findings(scan_bytes(jks_store(der, "changeit"), "keystore.jks"))
    assert opened.rule_id == "private-key-java-keystore" and not opened.encrypted
    assert opened.attrs["protection"] == "guessable-password"
    assert opened.attrs["keystore"] == "jks" and opened.attrs["alias"] == "tomcat"
    assert opened.attrs["jwk_thumbprint"] == keys.jwk_thumbprint(key)
    [locked] = keystore_findings(scan_bytes(jks_store(der, STRONG.decode()), "keystore.jks"))
    assert locked.encrypted and locked.attrs["protection"] == "password"
    assert locked.attrs["key_format"] == "keystore-protected"


def test_truncated_jks_is_reported_as_partly_read():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    store = jks_store(der, "changeit")
    scan = scan_bytes(store[:60], "keystore.jks")
    assert not scan.findings
    assert scan.skipped() == [
        ("keystore.jks", "JKS keystore ends early (truncated); later entries not read")
    ]


def test_keystore_rules_win_over_the_generic_pem_rule_on_a_key_card():
    card, _ = keystores.pkcs12_cards(pkcs12_store(None))
    scan = scan_bytes(card[0].text, "card.txt")
    assert [f.rule_id for f in scan.findings] == ["private-key-pkcs12"]


KEYTOOL = shutil.which("keytool")


@pytest.mark.skipif(KEYTOOL is None, reason="keytool (a JDK) is not installed")
@pytest.mark.parametrize(
    ("store_type", "password", "protection", "encrypted"),
    [
        ("JKS", "changeit", "guessable-password", False),
        ("JKS", STRONG.decode(), "password", True),
        ("JCEKS", STRONG.decode(), "password", True),
        ("PKCS12", "changeit", "guessable-password", False),
        ("PKCS12", STRONG.decode(), "password", True),
    ],
)
def test_keystores_written_by_keytool(tmp_path: Path, store_type, password, protection, encrypted):
    path = tmp_path / f"store.{store_type.lower()}"
    done = subprocess.run(
        [
            str(KEYTOOL), "-genkeypair", "-keystore", str(path), "-storetype", store_type,
            "-storepass", password, "-keypass", password, "-alias", "app",
            "-keyalg", "EC", "-dname", "CN=leakstop-test", "-validity", "1",
        ],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"keytool failed: {done.stderr[:200]}")
    [found] = keystore_findings(scan_bytes(path.read_bytes(), path.name))
    assert found.attrs["protection"] == protection and found.encrypted is encrypted
    assert found.attrs["alias"] == "app"


@pytest.mark.skipif(KEYTOOL is None, reason="keytool (a JDK) is not installed")
def test_jceks_secret_key_entry_is_listed_as_not_read(tmp_path: Path):
    path = tmp_path / "secrets.jceks"
    done = subprocess.run(
        [
            str(KEYTOOL), "-genseckey", "-keystore", str(path), "-storetype", "JCEKS",
            "-storepass", STRONG.decode(), "-keypass", STRONG.decode(), "-alias", "hmac",
            "-keyalg", "HmacSHA256", "-keysize", "256",
        ],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"keytool failed: {done.stderr[:200]}")
    scan = scan_bytes(path.read_bytes(), path.name)
    assert not scan.findings
    assert scan.skipped() == [
        (
            "secrets.jceks",
            "JCEKS secret-key entry (a sealed Java object) 'hmac' not opened; later entries "
            "were not read",
        )
    ]


OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_unencrypted_key_bag_in_a_locked_pkcs12_is_reported_as_unprotected(tmp_path: Path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    done = subprocess.run(
        [
            str(OPENSSL), "pkcs12", "-export", "-nocerts", "-inkey", str(tmp_path / "key.pem"),
            "-keypbe", "NONE", "-certpbe", "NONE", "-passout", f"pass:{STRONG.decode()}",
            "-out", str(tmp_path / "plain.p12"),
        ],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"openssl failed: {done.stderr[:200]}")
    [found] = keystore_findings(scan_bytes((tmp_path / "plain.p12").read_bytes(), "plain.p12"))
    assert found.attrs["protection"] == "none" and found.encrypted is False
    assert found.attrs["jwk_thumbprint"] == keys.jwk_thumbprint(key)


def test_keystore_limits_do_not_apply_to_key_cards():
    scan = scan_bytes(pkcs12_store(None), "a.p12", ArchiveLimits(max_depth=0))
    assert len(keystore_findings(scan)) == 1


def _hash(value: str) -> str:
    from scanner.models import secret_hash

    return secret_hash(value)[:32]

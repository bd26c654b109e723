"""Generate the labelled accuracy corpus: a directory tree in every format the rules claim, a
git repository with the history cases, and build artifacts, with one label per case.

    python -m benchmarks.accuracy.corpus OUT [--seed 9] [--repeat 1]

Every value is drawn from one seeded RNG, so a seed gives the same corpus byte for byte.
``labels.jsonl`` holds one ``Label`` per line: where the case is (source, path or archive
chain, line, commit), what it is (kind, provider) and whether a scanner must report it
(``positive``) or not (``decoy``). Cases are grouped by ``category`` so a report can say which
kind of hard case fails.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.accuracy import builds, formats
from benchmarks.accuracy.keygen import (
    PRIVATE_FORMS,
    KeyMaker,
    base64_text,
    body_cut,
    escaped,
    truncated,
)
from benchmarks.accuracy.values import PROVIDERS, CredentialSet, Values

POSITIVE, DECOY = "positive", "decoy"
# Categories of decoys a scanner may report if, and only if, it marks them "test-fixture".
TEST_FIXTURE_CATEGORIES = frozenset({"test-fixture"})
PEM_FORMS = tuple(f for f in PRIVATE_FORMS if not f.startswith(("putty", "jwk")))


@dataclass(frozen=True)
class Label:
    """One case of the corpus: what is at a location and whether it must be reported."""

    id: int
    source: str
    """``tree``, ``history`` or ``artifact``."""
    path: str | None
    """Relative to the source's root; inside archives the chain joined by ``!``; None for a
    commit message."""
    line: int | None
    """1-based line of the secret (of the BEGIN line or opening brace for a key)."""
    kind: str
    provider: str
    expected: str
    category: str
    format: str
    rule: str | None
    """The rule that should report a positive (attribution is scored separately)."""
    note: str
    commit: str | None = None
    """History cases: the commit that introduced the value (full sha)."""
    blob: str | None = None
    """History cases: the git blob id holding the value."""


@dataclass(frozen=True)
class Mark:
    """Where a case sits in a file: the line containing ``anchor`` (moved up to the nearest
    line containing ``back_to`` when given, e.g. a JWK's opening brace, or by ``offset``)."""

    anchor: str
    kind: str
    provider: str
    expected: str
    category: str
    format: str
    rule: str | None = None
    note: str = ""
    offset: int = 0
    back_to: str | None = None
    anywhere: bool = False
    """The case has no meaningful line (a key inside a binary keystore): any line matches."""


@dataclass
class File:
    path: str
    text: str
    marks: list[Mark]


@dataclass
class Package:
    """A build artifact: its bytes, and the labelled members inside (chain below the
    artifact, the member's text, its marks); ``whole`` marks the artifact itself."""

    path: str
    data: bytes
    members: list[tuple[str, str, list[Mark]]] = field(default_factory=list)
    whole: list[Mark] = field(default_factory=list)


class Corpus:
    """Builds the cases of the directory tree; history and artifacts reuse its files."""

    def __init__(self, seed: int, repeat: int) -> None:
        self.seed = seed
        self.repeat = repeat
        self.rng = random.Random(seed)
        self.values = Values(self.rng)
        self.keys = KeyMaker(self.rng)
        self.files: list[File] = []
        self._dirs: set[str] = set()

    # -- building --------------------------------------------------------------------------

    def add(self, directory: str, path: str, text: str, marks: Sequence[Mark]) -> None:
        """One file in its own case directory, so cases never share a file."""
        base = directory
        n = 1
        while base in self._dirs:
            n += 1
            base = f"{directory}-{n}"
        self._dirs.add(base)
        self.files.append(File(f"{base}/{path}", text, list(marks)))

    def build_tree(self) -> list[File]:
        for r in range(self.repeat):
            self.provider_formats(r)
            self.special_positives(r)
            self.private_keys(r)
            self.decoys(r)
        return self.files

    # -- positives -------------------------------------------------------------------------

    def provider_formats(self, r: int) -> None:
        """Every provider in every format and style the rules claim."""
        for provider in PROVIDERS:
            for fmt, styles in formats.STYLES.items():
                for style in styles:
                    creds = self.values.credential_set(provider)
                    path, text = formats.render(fmt, style, creds, self.rng)
                    text, how = self.vary(text, fmt, creds.secret.value)
                    mark = secret_mark(creds, fmt, "provider-format", f"{fmt} {style}{how}")
                    self.add(f"apps/{provider}-{fmt}-{style}-{r}", path, text, [mark])

    def vary(self, text: str, fmt: str, secret: str) -> tuple[str, str]:
        """Real files are untidy: a comment after the value, Windows line endings."""
        how = ""
        comments = {
            "env": "  # prod",
            "shell": "  # prod",
            "yaml": "  # rotated 2024-05",
            "toml": "  # prod",
            "python": "  # prod",
            "ruby": "  # prod",
            "javascript": " // prod",
            "go": " // prod",
            "java": " // prod",
        }
        if fmt in comments and self.rng.random() < 0.2:
            lines = text.split("\n")
            i = next(n for n, line in enumerate(lines) if secret in line)
            lines[i] += comments[fmt]
            text, how = "\n".join(lines), ", trailing comment"
        if self.rng.random() < 0.15:
            text, how = text.replace("\n", "\r\n"), how + ", CRLF"
        return text, how

    def several_providers(self, r: int) -> None:
        """Several providers in one file: each secret must go to its own rule."""
        choices = [p for p in PROVIDERS if p not in ("generic", "github-token")]
        for fmt in ("env", "yaml", "json", "python", "toml"):
            sets = [self.values.credential_set(p) for p in self.rng.sample(choices, 4)]
            path, text = formats.several(fmt, sets, self.rng)
            marks = [secret_mark(c, fmt, "several-providers", f"{fmt}, 4 providers") for c in sets]
            self.add(f"apps/several-{fmt}-{r}", path, text, marks)

    def unpaired(self, r: int) -> None:
        """A secret alone under a name that says whose it is (the client id lives elsewhere)."""
        for provider in PROVIDERS:
            if provider in ("generic", "github-token"):
                continue
            creds = self.values.credential_set(provider)
            alone = dataclasses.replace(creds, entries=(creds.secret,))
            path, text = formats.render("env", "flat", alone, self.rng)
            mark = secret_mark(alone, "env", "unpaired", "secret without its client id")
            self.add(f"apps/unpaired-{provider}-{r}", path, text, [mark])

    def realm_export(self, r: int) -> None:
        """A Keycloak realm export (kc.sh export) holds confidential clients' secrets."""
        secret = self.values.s("alnum", 32)
        clients = [
            {
                "id": self.values.uuid(),
                "clientId": "account-console",
                "publicClient": True,
                "clientAuthenticatorType": "client-secret",
                "redirectUris": ["/realms/main/*"],
            },
            {
                "id": self.values.uuid(),
                "clientId": self.values.pick("orders-api", "billing"),
                "name": "Orders API",
                "enabled": True,
                "clientAuthenticatorType": "client-secret",
                "secret": secret,
                "redirectUris": ["https://orders.corp.example/*"],
                "publicClient": False,
                "protocol": "openid-connect",
            },
        ]
        export = {"id": "main", "realm": "main", "enabled": True, "clients": clients}
        self.add(
            f"apps/realm-export-{r}",
            "keycloak/realm-export.json",
            json.dumps(export, indent=2) + "\n",
            [
                Mark(
                    secret,
                    "client-secret",
                    "keycloak",
                    POSITIVE,
                    "keycloak-realm-export",
                    "json",
                    "keycloak-client-secret-realm-export",
                    "kc.sh export",
                )
            ],
        )

    def special_positives(self, r: int) -> None:
        self.several_providers(r)
        self.unpaired(r)
        self.realm_export(r)
        v = self.values
        # Google's downloaded client_secret_*.json, new (GOCSPX-) and legacy (24 chars).
        for kind, secret, rule in (
            ("web", "GOCSPX-" + v.s("b64u", 28), "google-oauth-client-secret"),
            ("installed", v.s("b64u", 24), "google-oauth-client-secret-json"),
        ):
            client_id = v.google_client_id()
            body = {
                kind: {
                    "client_id": client_id,
                    "project_id": "shop-" + v.s("lower", 6),
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": "https://oauth2.googleapis.com/token",
                    "client_secret": secret,
                    "redirect_uris": ["http://localhost"],
                }
            }
            text = json.dumps(body, separators=(",", ":"))
            if self.rng.random() < 0.5:
                text = json.dumps(body, indent=2)
            name = f"client_secret_{client_id}.json"
            mark = Mark(
                secret,
                "client-secret",
                "google",
                POSITIVE,
                "client-secret-json",
                "json",
                rule,
                f"client_secret.json ({kind})",
            )
            self.add(f"downloads/google-{kind}-{r}", name, text + "\n", [mark])
        # Keycloak OIDC adapter configuration.
        secret = v.s("alnum", 32) if self.rng.random() < 0.7 else v.uuid()
        adapter = {
            "realm": v.pick("shop", "corp", "main"),
            "auth-server-url": "https://sso.corp.example/",
            "ssl-required": "external",
            "resource": v.pick("orders-api", "billing", "portal"),
            "credentials": {"secret": secret},
            "confidential-port": 0,
        }
        self.add(
            f"apps/keycloak-adapter-{r}",
            "WEB-INF/keycloak.json",
            json.dumps(adapter, indent=2) + "\n",
            [
                Mark(
                    secret,
                    "client-secret",
                    "keycloak",
                    POSITIVE,
                    "keycloak-adapter",
                    "json",
                    "keycloak-client-secret-adapter-json",
                    "keycloak.json adapter",
                )
            ],
        )
        # RFC 7591 dynamic client registration response saved to a file.
        secret = v.generic_secret()
        registration = {
            "client_id": v.s("alnum", 22),
            "client_secret": secret,
            "client_id_issued_at": 1717171717,
            "client_secret_expires_at": 0,
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["client_credentials"],
        }
        self.add(
            f"apps/registration-{r}",
            "registration-response.json",
            json.dumps(registration, indent=2) + "\n",
            [generic_mark(secret, "json", "dynamic-registration", "RFC 7591 response")],
        )
        # A Kubernetes Secret: base64 is an encoding, the value is in the clear.
        secret = v.generic_secret()
        encoded = base64.b64encode(secret.encode()).decode()
        manifest = "\n".join(
            [
                "apiVersion: v1",
                "kind: Secret",
                "metadata:",
                "  name: oauth2-client",
                "type: Opaque",
                "data:",
                f"  client-id: {base64.b64encode(b'orders-service').decode()}",
                f"  client-secret: {encoded}",
                "",
            ]
        )
        self.add(
            f"deploy/k8s-secret-{r}",
            "oauth2-secret.yaml",
            manifest,
            [generic_mark(encoded, "yaml", "k8s-secret-base64", "Secret data (base64)")],
        )
        # A real secret commented out is still leaked.
        secret = v.generic_secret()
        text = "\n".join(
            [
                "import os",
                "",
                '# CLIENT_SECRET = "' + secret + '"  # old one, rotated?',
                'CLIENT_SECRET = os.environ["CLIENT_SECRET"]',
                "",
            ]
        )
        self.add(
            f"apps/commented-{r}",
            "app/oauth.py",
            text,
            [generic_mark(secret, "python", "commented-out", "commented-out assignment")],
        )
        # In a token request URL, e.g. in a log or a script.
        secret = v.generic_secret() if self.rng.random() < 0.5 else v.s("alnum", 32)
        text = "\n".join(
            [
                "2024-05-01T10:00:00Z INFO requesting token",
                "2024-05-01T10:00:01Z DEBUG POST https://login.example.com/oauth2/token"
                f"?grant_type=client_credentials&client_id=orders&client_secret={secret}&scope=api",
                "",
            ]
        )
        self.add(
            f"logs/token-url-{r}",
            "debug.log",
            text,
            [generic_mark(secret, "log", "url-query", "client_secret in a URL")],
        )
        # GitHub Actions workflow with a literal instead of ${{ secrets.X }}.
        secret = v.generic_secret()
        text = "\n".join(
            [
                "name: deploy",
                "on: [push]",
                "jobs:",
                "  deploy:",
                "    runs-on: ubuntu-latest",
                "    env:",
                "      OAUTH_CLIENT_ID: deployer",
                f"      OAUTH_CLIENT_SECRET: {secret}",
                "    steps:",
                "      - run: ./deploy.sh",
                "",
            ]
        )
        self.add(
            f"ci/actions-{r}",
            ".github/workflows/deploy.yml",
            text,
            [generic_mark(secret, "yaml", "ci-workflow", "workflow env literal")],
        )
        # A production bundle: one long minified line with the literal inside.
        secret = v.s("alnum", 32)
        text = minified_bundle(self.rng, f'clientId:"spa-web",clientSecret:"{secret}"')
        self.add(
            f"web/bundle-{r}",
            "dist/static/js/main.3f9a2c1b.js",
            text,
            [generic_mark(secret, "javascript", "minified", "literal in a minified bundle")],
        )

    def private_keys(self, r: int) -> None:
        """Every private key form as a file, and PEM keys inside every container format."""
        names = {
            "rsa-pkcs1": "deploy/server.key",
            "ec-sec1": "certs/ec.key",
            "dsa": "legacy/dsa.pem",
            "pkcs8-rsa": "keys/signing.pem",
            "pkcs8-ec": "keys/client-assertion.pem",
            "pkcs8-ed25519": "keys/ed25519.pem",
            "pkcs8-encrypted": "keys/encrypted.pem",
            "legacy-encrypted": "keys/legacy-encrypted.key",
            "openssh-ed25519": ".ssh/id_ed25519",
            "openssh-rsa": ".ssh/id_rsa",
            "openssh-encrypted": ".ssh/id_ed25519_enc",
            "putty-v2": "putty/deploy-v2.ppk",
            "putty-v3": "putty/deploy-v3.ppk",
            "putty-v3-encrypted": "putty/deploy-v3-enc.ppk",
            "jwk-rsa": "jwk/signing-rsa.jwk",
            "jwk-ec": "jwk/signing-ec.json",
            "jwk-okp": "jwk/signing-okp.json",
        }
        for form in PRIVATE_FORMS:
            text = self.keys.private(form)
            self.add(
                f"keys/{form}-{r}",
                names[form],
                text + "\n",
                [key_mark(text, "key-file", "pem" if "jwk" not in form else "json", form)],
            )
        # A private JWKS: one finding per private member.
        jwks = [self.keys.private_jwk(self.keys.rsa()), self.keys.private_jwk(self.keys.ec())]
        text = json.dumps({"keys": jwks}, indent=2)
        marks = [
            Mark(
                f'"d": "{jwk["d"]}"',
                "private-key",
                "generic",
                POSITIVE,
                "jwks",
                "json",
                "private-key-jwk",
                "private JWKS member",
                back_to="{",
            )
            for jwk in jwks
        ]
        self.add(f"keys/jwks-{r}", "config/jwks.json", text + "\n", marks)
        # A JWK in an environment variable.
        jwk = json.dumps(self.keys.private_jwk(self.keys.ec()), separators=(",", ":"))
        self.add(
            f"keys/jwk-env-{r}",
            ".env",
            f"JWT_ISSUER=orders\nJWT_PRIVATE_JWK='{jwk}'\n",
            [
                Mark(
                    '"d":',
                    "private-key",
                    "generic",
                    POSITIVE,
                    "jwk-embedded",
                    "env",
                    "private-key-jwk",
                    "JWK in an env var",
                )
            ],
        )
        for container in KEY_CONTAINERS:
            form = self.rng.choice(PEM_FORMS)
            key = self.keys.private(form)
            path, text, rendered = embed_key(container, key, self.rng)
            rule = "private-key-base64-pem" if container in BASE64_CONTAINERS else key_rule(form)
            self.add(
                f"keys/{container}-{r}",
                path,
                text,
                [key_mark(rendered, "key-embedded", container, form, rule=rule)],
            )

    # -- artifacts -------------------------------------------------------------------------

    def build_artifacts(self) -> list[Package]:
        packages: list[Package] = []
        for r in range(self.repeat):
            packages += self.artifacts(r)
        return packages

    def member(self, provider: str, fmt: str, style: str, category: str) -> tuple[str, str, Mark]:
        """(default path, text, mark) of one provider's credentials in one format."""
        creds = self.values.credential_set(provider)
        path, text = formats.render(fmt, style, creds, self.rng)
        return path, text, secret_mark(creds, fmt, category, f"{fmt} {style} in an artifact")

    def pick(self) -> str:
        return self.rng.choice([p for p in PROVIDERS if p != "github-token"])

    def artifacts(self, r: int) -> list[Package]:
        """Archives, packages, an image and keystores with credentials in their members."""
        out: list[Package] = []
        zb, tb, gz = builds.zip_bytes, builds.tar_bytes, builds.gz_bytes
        # A zip with a properties file, a documented placeholder and a CA certificate.
        _, props, mark = self.member(self.pick(), "properties", "flat", "archive-member")
        readme = "Set `OAUTH_CLIENT_SECRET=<your-client-secret>` before starting.\n"
        cert = self.keys.certificate() + "\n"
        package = Package(
            f"dist/app-{r}.zip",
            zb(
                [
                    ("config/application.properties", props.encode()),
                    ("README.md", readme.encode()),
                    ("certs/ca.pem", cert.encode()),
                ]
            ),
        )
        package.members += [
            ("config/application.properties", props, [mark]),
            (
                "certs/ca.pem",
                cert,
                [
                    Mark(
                        cert.splitlines()[1],
                        "private-key",
                        "generic",
                        DECOY,
                        "public-key",
                        "pem",
                        note="certificate in a zip",
                        offset=-1,
                    )
                ],
            ),
        ]
        out.append(package)
        # zip in tar.gz in zip.
        _, env, mark = self.member(self.pick(), "env", "flat", "nested-archive")
        inner = zb([("settings.env", env.encode())])
        tgz = gz(tb([("conf.zip", inner)]))
        out.append(
            Package(
                f"release/bundle-{r}.zip",
                zb([("inner.tar.gz", tgz)]),
                [("inner.tar.gz!conf.zip!settings.env", env, [mark])],
            )
        )
        # A wheel: the package's settings, and a fake credential in its tests.
        _, settings, mark = self.member(self.pick(), "python", "flat", "wheel")
        _, fake, fake_mark = self.member(self.pick(), "python", "flat", "test-fixture")
        fake_mark = dataclasses.replace(fake_mark, expected=DECOY)
        name = f"orders_client-1.{r}"
        wheel = zb(
            [
                ("orders_client/settings.py", settings.encode()),
                ("orders_client/tests/fake_credentials.py", fake.encode()),
                (f"{name}.dist-info/METADATA", b"Name: orders-client\n"),
            ]
        )
        out.append(
            Package(
                f"dist/{name}-py3-none-any.whl",
                wheel,
                [
                    ("orders_client/settings.py", settings, [mark]),
                    ("orders_client/tests/fake_credentials.py", fake, [fake_mark]),
                ],
            )
        )
        # An npm package: a bundle with a literal, another with a minified identifier.
        secret = self.values.s("alnum", 32)
        bundle = minified_bundle(self.rng, f'clientId:"web",clientSecret:"{secret}"')
        ident = "_0x" + self.values.s("hex", 12)
        vendor = minified_bundle(self.rng, f'clientId:"spa",clientSecret:{ident},x:1')
        pkg = f"orders-web-1.{r}.0"
        tarball = gz(
            tb(
                [
                    ("package/package.json", b'{"name": "orders-web"}'),
                    ("package/dist/main.js", bundle.encode()),
                    ("package/dist/vendor.js", vendor.encode()),
                ]
            )
        )
        out.append(
            Package(
                f"npm/{pkg}.tgz",
                tarball,
                [
                    (
                        "package/dist/main.js",
                        bundle,
                        [generic_mark(secret, "javascript", "npm-package", "literal in a bundle")],
                    ),
                    (
                        "package/dist/vendor.js",
                        vendor,
                        [
                            Mark(
                                ident,
                                "client-secret",
                                "generic",
                                DECOY,
                                "minified",
                                "javascript",
                                note="minified identifier in an npm bundle",
                            )
                        ],
                    ),
                ],
            )
        )
        # An APK-like zip: strings.xml, and a secret in the dex string table.
        _, strings_xml, mark = self.member(self.pick(), "android-xml", "flat", "apk")
        google = "GOCSPX-" + self.values.s("b64u", 28)
        dex, _ = builds.dex_like(google, self.rng)
        out.append(
            Package(
                f"mobile/app-release-{r}.apk",
                zb(
                    [
                        ("AndroidManifest.xml", self.rng.randbytes(200)),
                        ("res/values/strings.xml", strings_xml.encode()),
                        ("classes.dex", dex),
                    ]
                ),
                [
                    ("res/values/strings.xml", strings_xml, [mark]),
                    (
                        "classes.dex",
                        dex.decode("latin-1"),
                        [
                            Mark(
                                google,
                                "client-secret",
                                "google",
                                POSITIVE,
                                "apk-dex",
                                "binary",
                                "google-oauth-client-secret",
                                "GOCSPX- in a dex string table",
                            )
                        ],
                    ),
                ],
            )
        )
        # A docker save image: a key in the lower layer, deleted by a whiteout above.
        key = self.keys.private(self.rng.choice(("pkcs8-rsa", "ec-sec1", "rsa-pkcs1")))
        _, env, mark = self.member(self.pick(), "env", "flat", "image-layer")
        image, layers = builds.docker_save(
            [
                [("app/.env", env.encode()), ("etc/ssl/private/server.key", key.encode() + b"\n")],
                [("etc/ssl/private/.wh.server.key", b"")],
            ]
        )
        out.append(
            Package(
                f"images/api-{r}.tar",
                image,
                [
                    (f"{layers[0]}!app/.env", env, [mark]),
                    (
                        f"{layers[0]}!etc/ssl/private/server.key",
                        key,
                        [key_mark(key, "image-layer", "pem", "pkcs8-rsa")],
                    ),
                ],
            )
        )
        # PKCS#12 keystores: one opens with an empty password, one stays locked.
        for label, password in (("empty", None), ("locked", self.values.s("alnum", 20).encode())):
            p12 = builds.pkcs12_file(self.keys, password)
            note = f"PKCS#12, {label} password"
            out.append(
                Package(
                    f"certs/client-{label}-{r}.p12",
                    p12,
                    whole=[
                        Mark(
                            "",
                            "private-key",
                            "generic",
                            POSITIVE,
                            "keystore",
                            "pkcs12",
                            "private-key-pkcs12",
                            note,
                            anywhere=True,
                        )
                    ],
                )
            )
        # A single gzip stream.
        _, env, mark = self.member(self.pick(), "env", "flat", "gzip")
        out.append(
            Package(f"backup/prod-{r}.env.gz", gz(env.encode()), [(f"prod-{r}.env", env, [mark])])
        )
        # A jar with a Spring configuration.
        _, yml, mark = self.member(self.pick(), "yaml", "nested", "jar")
        jar = zb(
            [
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                ("BOOT-INF/classes/application.yml", yml.encode()),
            ]
        )
        out.append(
            Package(
                f"lib/orders-core-{r}.jar", jar, [("BOOT-INF/classes/application.yml", yml, [mark])]
            )
        )
        return out

    # -- decoys ----------------------------------------------------------------------------

    def decoys(self, r: int) -> None:
        self.public_client_ids(r)
        self.public_keys(r)
        self.test_fixtures(r)
        for category, cases in DECOY_CASES.items():
            for fmt, path, template in cases:
                text, anchor = fill(template, self.values)
                line = next(x for x in text.split("\n") if anchor in x).strip()
                note = line if len(line) <= 70 else line[:67] + "..."
                mark = Mark(
                    anchor,
                    "client-secret",
                    decoy_provider(template),
                    DECOY,
                    category,
                    fmt,
                    note=note,
                )
                self.add(f"decoys/{category}-{r}", path, text, [mark])
        self.doc_examples(r)
        self.key_decoys(r)

    def public_client_ids(self, r: int) -> None:
        """Client ids are public by design (SPAs and mobile apps ship them)."""
        for provider in PROVIDERS:
            if provider in ("github-token", "generic"):
                continue
            creds = self.values.credential_set(provider)
            public = dataclasses.replace(
                creds, entries=tuple(e for e in creds.entries if not e.secret)
            )
            fmt = self.rng.choice(("typescript", "json", "env", "android-xml", "javascript"))
            style = self.rng.choice(formats.STYLES[fmt])
            path, text = formats.render(fmt, style, public, self.rng)
            client_id = next(e for e in public.entries if "id" in e.words or "key" in e.words)
            mark = Mark(
                client_id.value,
                "client-id",
                provider,
                DECOY,
                "public-client-id",
                fmt,
                note=f"{provider} client id alone",
            )
            self.add(f"decoys/client-id-{provider}-{r}", path, text, [mark])

    def public_keys(self, r: int) -> None:
        k = self.keys
        files = {
            "certificate": "certs/server.crt",
            "spki-rsa": "keys/signing.pub.pem",
            "spki-ec": "keys/ec.pub",
            "pkcs1-public": "certs/rsa_public.pem",
            "ssh-public": "deploy/authorized_keys",
            "jwk-public": "config/public.jwk.json",
            "jwks-public": "public/.well-known/jwks.json",
            "csr": "certs/server.csr",
        }
        for form, path in files.items():
            text = k.public(form)
            anchor = text.splitlines()[1] if "\n" in text else text[:40]
            mark = Mark(
                anchor,
                "private-key",
                "generic",
                DECOY,
                "public-key",
                "pem",
                note=form,
                offset=0 if "\n" not in text else -1,
            )
            if form == "jwk-public":
                mark = dataclasses.replace(mark, anchor=text[:40], offset=0)
            if form == "jwks-public":
                mark = dataclasses.replace(mark, anchor='"keys"', offset=-1)
            self.add(f"decoys/public-{form}-{r}", path, text + "\n", [mark])
        chain = k.certificate() + "\n" + k.certificate() + "\n"
        self.add(
            f"decoys/public-chain-{r}",
            "certs/fullchain.pem",
            chain,
            [
                Mark(
                    chain.splitlines()[1],
                    "private-key",
                    "generic",
                    DECOY,
                    "public-key",
                    "pem",
                    note="certificate chain",
                    offset=-1,
                )
            ],
        )
        cert = k.certificate()
        encoded = base64_text(cert)
        manifest = "\n".join(
            [
                "apiVersion: v1",
                "kind: Secret",
                "metadata:",
                "  name: ingress-ca",
                "type: Opaque",
                "data:",
                f"  ca.crt: {encoded}",
                "",
            ]
        )
        self.add(
            f"decoys/public-k8s-cert-{r}",
            "deploy/ca-secret.yaml",
            manifest,
            [
                Mark(
                    encoded[:40],
                    "private-key",
                    "generic",
                    DECOY,
                    "public-key",
                    "yaml",
                    note="base64 certificate in a Secret",
                )
            ],
        )
        cert = k.certificate()
        body = json.dumps({"issuer": "https://sso.corp.example", "ca_pem": cert + "\n"})
        self.add(
            f"decoys/public-json-cert-{r}",
            "config/trust.json",
            body + "\n",
            [
                Mark(
                    "BEGIN CERTIFICATE",
                    "private-key",
                    "generic",
                    DECOY,
                    "public-key",
                    "json",
                    note="escaped certificate in JSON",
                )
            ],
        )

    def test_fixtures(self, r: int) -> None:
        """Real-shaped credentials in tests, fakes and fixtures: reported as test-fixture, or
        not at all. A high-confidence finding on one is a false alarm."""
        places = {
            "python": "tests/fake_{p}_credentials.py",
            "json": "spec/fixtures/fake_{p}.json",
            "typescript": "src/__tests__/fake{P}.test.ts",
            "env": "testdata/{p}/fake.env",
            "properties": "src/test/resources/application-fake-{p}.properties",
            "yaml": "test/fixtures/fake_{p}.yml",
            "go": "internal/auth/fake_{p}_test.go",
            "ruby": "spec/support/fake_{p}.rb",
        }
        for provider in PROVIDERS:
            fmt = self.rng.choice(tuple(places))
            style = self.rng.choice(formats.STYLES[fmt])
            creds = self.values.credential_set(provider)
            _, text = formats.render(fmt, style, creds, self.rng)
            name = provider.replace("-", "_")
            path = places[fmt].format(p=name, P=formats.pascal(name.split("_")))
            mark = dataclasses.replace(
                secret_mark(creds, fmt, "test-fixture", f"{path}"), expected=DECOY
            )
            self.add(f"suites/{provider}-{r}", path, text, [mark])
        for form, path in (
            (self.rng.choice(PEM_FORMS), "tests/fixtures/fake_server.key"),
            ("openssh-ed25519", "testdata/fake_id_ed25519"),
            ("jwk-ec", "src/__mocks__/fakeSigningKey.json"),
        ):
            text = self.keys.private(form)
            mark = dataclasses.replace(key_mark(text, "test-fixture", "pem", form), expected=DECOY)
            self.add(f"suites/key-{form}-{r}", path, text + "\n", [mark])

    def doc_examples(self, r: int) -> None:
        """Commented-out examples in documentation, with values no reader mistakes for a real
        secret (masked, 'your-...', EXAMPLE-marked, elided)."""
        for provider in PROVIDERS:
            creds = self.values.credential_set(provider)
            secret = creds.secret.value
            placeholder = doc_placeholder(secret, provider, self.rng)
            lines = [f"# {provider.title()} sign-in", "", "Add these to your `.env`:", "", "```sh"]
            for e in creds.entries:
                value = placeholder if e.secret else e.value
                lines.append(f"# {formats.upper(e.words)}={value}")
            lines += ["```", "", "Restart the server afterwards.", ""]
            name = self.rng.choice(("README.md", "docs/setup.md", "docs/configuration.md"))
            mark = Mark(
                placeholder,
                creds.kind,
                creds.provider,
                DECOY,
                "doc-example",
                "markdown",
                note=f"documented placeholder {placeholder[:24]}",
            )
            self.add(f"docs/{provider}-{r}", name, "\n".join(lines), [mark])

    def key_decoys(self, r: int) -> None:
        k = self.keys
        cases: list[tuple[str, str, str, str]] = []
        key = k.private("pkcs8-rsa")
        cases.append(("truncated-pem", "certs/partial.key", truncated(key), "BEGIN PRIVATE KEY"))
        key = k.private("openssh-ed25519")
        cases.append(
            (
                "truncated-pem",
                "notes/ssh-key-paste.txt",
                truncated(key),
                "BEGIN OPENSSH PRIVATE KEY",
            )
        )
        key = k.private("rsa-pkcs1")
        cases.append(("truncated-pem", "certs/damaged.pem", body_cut(key), "BEGIN RSA PRIVATE KEY"))
        lines = k.private("pkcs8-ec").splitlines()
        elided = "\n".join([lines[0], lines[1][:24] + "...", "...", lines[-1]])
        cases.append(
            (
                "truncated-pem",
                "docs/keys.md",
                "Key format:\n\n" + elided + "\n",
                "BEGIN PRIVATE KEY",
            )
        )
        cases.append(
            (
                "placeholder-key",
                "docs/deploy.md",
                "\n".join(
                    [
                        "Paste the key into `deploy.key`:",
                        "",
                        "```",
                        "-----BEGIN OPENSSH PRIVATE KEY-----",
                        "<your deploy key here>",
                        "-----END OPENSSH PRIVATE KEY-----",
                        "```",
                        "",
                    ]
                ),
                "BEGIN OPENSSH PRIVATE KEY",
            )
        )
        body = k.private("rsa-pkcs1").splitlines()
        body[2] = body[2][:20] + "EXAMPLEKEYEXAMPLEKEY" + body[2][40:]
        body[3] = "EXAMPLE" + body[3][7:]
        cases.append(
            (
                "placeholder-key",
                "docs/examples/create-key-pair.rst",
                ".. code-block:: text\n\n" + "\n".join("    " + b for b in body) + "\n",
                "BEGIN RSA PRIVATE KEY",
            )
        )
        cases.append(
            (
                "placeholder-key",
                "src/pem.py",
                "\n".join(
                    [
                        'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"',
                        'PEM_FOOTER = "-----END PRIVATE KEY-----"',
                        "PEM_RE = re.compile(",
                        '    rb"-----BEGIN (?:RSA |EC )?PRIVATE KEY-----\\s+([A-Za-z0-9+/=\\s]+)'
                        '-----END (?:RSA |EC )?PRIVATE KEY-----"',
                        ")",
                        "",
                    ]
                ),
                "PEM_HEADER",
            )
        )
        cases.append(
            (
                "placeholder-key",
                "src/keyutil.js",
                "\n".join(
                    [
                        "export function toPem(b64) {",
                        "  return `-----BEGIN PRIVATE KEY-----\\n"
                        "${b64.match(/.{1,64}/g).join('\\n')}"
                        "\\n-----END PRIVATE KEY-----\\n`;",
                        "}",
                        "",
                    ]
                ),
                "BEGIN PRIVATE KEY",
            )
        )
        jwk = {"kty": "EC", "crv": "P-256", "x": "...", "y": "...", "d": "<private scalar>"}
        cases.append(
            (
                "placeholder-key",
                "docs/jwk.md",
                "A private JWK looks like:\n\n" + json.dumps(jwk) + "\n",
                '"kty"',
            )
        )
        for category, path, text, anchor in cases:
            self.add(
                f"decoys/{category}-{r}",
                path,
                text,
                [Mark(anchor, "private-key", "generic", DECOY, category, "pem", note=path)],
            )


# -- marks -----------------------------------------------------------------------------------


def secret_mark(creds: CredentialSet, fmt: str, category: str, note: str) -> Mark:
    return Mark(
        creds.secret.value, creds.kind, creds.provider, POSITIVE, category, fmt, creds.rule, note
    )


def generic_mark(anchor: str, fmt: str, category: str, note: str) -> Mark:
    return Mark(
        anchor, "client-secret", "generic", POSITIVE, category, fmt, "generic-client-secret", note
    )


def key_rule(form: str) -> str:
    if form.startswith("openssh"):
        return "private-key-openssh"
    if form.startswith("putty"):
        return "private-key-putty"
    if form.startswith("jwk"):
        return "private-key-jwk"
    return "private-key-pem"


def key_mark(text: str, category: str, fmt: str, form: str, rule: str | None = None) -> Mark:
    """A key's label sits on its BEGIN line (or the JWK's opening brace); the anchor is a body
    line, unique to this key."""
    rule = rule or key_rule(form)
    if form.startswith("jwk"):
        d = json.loads(text)["d"] if text.lstrip().startswith("{") else ""
        anchor = d[:32] if d else '"d"'
        return Mark(
            anchor, "private-key", "generic", POSITIVE, category, fmt, rule, form, back_to="{"
        )
    lines = text.splitlines()
    if len(lines) == 1:  # escaped or base64: one line
        return Mark(lines[0][-48:], "private-key", "generic", POSITIVE, category, fmt, rule, form)
    start = next(i for i, line in enumerate(lines) if "BEGIN" in line or "PuTTY-User" in line)
    body = max(range(len(lines)), key=lambda i: len(lines[i]) if i > start else -1)
    anchor = lines[body].strip().removesuffix("+").strip().strip('",').removesuffix("\\n")
    return Mark(
        anchor[-40:],
        "private-key",
        "generic",
        POSITIVE,
        category,
        fmt,
        rule,
        form,
        offset=start - body,
    )


# -- containers for keys ---------------------------------------------------------------------

BASE64_CONTAINERS = ("k8s-secret-b64", "env-b64")
KEY_CONTAINERS: tuple[str, ...] = (
    "yaml-block",
    "python",
    "javascript",
    "go",
    "java",
    "kotlin",
    "csharp",
    "ruby",
    "php",
    "swift",
    "terraform",
    "shell",
    "dockerfile",
    "notebook",
    "xml",
    "properties",
    "json-escaped",
    "env-escaped",
    "markdown",
    *BASE64_CONTAINERS,
)


def embed_key(container: str, key: str, rng: random.Random) -> tuple[str, str, str]:
    """(path, file text, the key as written there) for a PEM key inside ``container``."""
    lines = key.splitlines()
    one_line = escaped(key)
    if container == "yaml-block":
        block = "\n".join("    " + x for x in lines)
        return (
            "config/signing.yml",
            f"oauth:\n  client_id: orders\n  private_key: |\n{block}\n",
            block,
        )
    if container == "python":
        return "app/keys.py", f'SIGNING_KEY = """{key}\n"""\n', key
    if container == "javascript":
        return "src/keys.js", f"export const signingKey = `{key}\n`;\n", key
    if container == "go":
        return "internal/keys/keys.go", f"package keys\n\nconst signingKey = `{key}\n`\n", key
    if container == "java":
        parts = [f'        "{x}\\n"' for x in lines]
        text = " +\n".join(parts)
        body = f"class Keys {{\n    static final String KEY =\n{text};\n}}\n"
        return "src/main/java/Keys.java", body, text
    if container == "kotlin":
        return "src/main/kotlin/Keys.kt", f'val signingKey = """\n{key}\n""".trimIndent()\n', key
    if container == "csharp":
        return "src/Keys.cs", f'static class Keys {{\n    const string Pem = @"{key}";\n}}\n', key
    if container == "ruby":
        return "config/keys.rb", f"SIGNING_KEY = <<~PEM\n{key}\nPEM\n", key
    if container == "php":
        return "config/keys.php", f"<?php\n$signingKey = <<<'PEM'\n{key}\nPEM;\n", key
    if container == "swift":
        return "App/Keys.swift", f'let signingKey = """\n{key}\n"""\n', key
    if container == "terraform":
        return "infra/keys.tf", f"locals {{\n  signing_key = <<-EOT\n{key}\n  EOT\n}}\n", key
    if container == "shell":
        return (
            "scripts/install-key.sh",
            f"#!/bin/sh\ncat > /etc/app/key.pem <<'EOF'\n{key}\nEOF\n",
            key,
        )
    if container == "dockerfile":
        text = f'FROM alpine:3.20\nRUN printf "{one_line}\\n" > /root/.ssh/id_key\n'
        return "Dockerfile", text, one_line
    if container == "notebook":
        source = [x + "\n" for x in lines]
        cell = {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "outputs": [],
            "source": ['key = """', *source, '"""'],
        }
        text = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}, indent=1)
        return "notebooks/sign.ipynb", text + "\n", "\n".join(json.dumps(s) for s in source)
    if container == "xml":
        return "conf/saml.xml", f"<signing>\n<privateKey>\n{key}\n</privateKey>\n</signing>\n", key
    if container == "properties":
        return "src/main/resources/jwt.properties", f"jwt.signing-key={one_line}\n", one_line
    if container == "json-escaped":
        doc = {
            "type": "service_account",
            "project_id": "shop-prod",
            "private_key_id": "k1",
            "private_key": key + "\n",
            "client_email": "svc@shop-prod.iam.example",
        }
        text = json.dumps(doc, indent=2)
        written = json.dumps(key + "\n")
        return "secrets/service-account.json", text + "\n", written
    if container == "env-escaped":
        return ".env", f'APP_ENV=prod\nPRIVATE_KEY="{one_line}"\n', one_line
    if container == "markdown":
        return "docs/deploy-key.md", f"Deploy key for CI:\n\n```\n{key}\n```\n", key
    if container == "k8s-secret-b64":
        encoded = base64_text(key)
        manifest = (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\n"
            f"data:\n  tls.key: {encoded}\n"
        )
        return "deploy/tls-secret.yaml", manifest, encoded
    if container == "env-b64":
        encoded = base64_text(key)
        return "deploy/app.env", f"SIGNING_KEY_B64={encoded}\n", encoded
    raise ValueError(container)


# -- decoy templates -------------------------------------------------------------------------
# ``{name}`` fields are filled with fresh values (see fill); the line with ``«»`` around the
# anchor text is the label's line (the markers are removed).

DECOY_CASES: dict[str, list[tuple[str, str, str]]] = {
    "hash-near-secret": [
        ("python", "app/settings.py", 'CLIENT_ID = "orders"\n«CLIENT_SECRET_SHA256» = "{hex64}"\n'),
        (
            "yaml",
            "config/clients.yml",
            "clients:\n  - client_id: orders\n    «hashed_client_secret»: {hex64}\n",
        ),
        ("json", "db/seed.json", '{{"client_id": "orders", "«clientSecretHash»": "{b64_32}"}}\n'),
        (
            "env",
            ".env.production",
            "GITHUB_CLIENT_ID=Iv23{alnum16}\n«GITHUB_CLIENT_SECRET_SHA1»={hex40}\n",
        ),
        (
            "yaml",
            "config/okta.yml",
            "okta:\n  client-id: 0oa{alnum17}\n  «client-secret-sha256»: {b64u43}\n",
        ),
        (
            "env",
            "deploy/sf.env",
            "SF_CONSUMER_KEY=3MVG9{alnum80}\n«SF_CONSUMER_SECRET_SHA256»={HEX64}\n",
        ),
        (
            "env",
            "deploy/auth0.env",
            "AUTH0_DOMAIN=acme.eu.auth0.com\n«AUTH0_CLIENT_SECRET_SHA256»={hex64}\n",
        ),
        ("env", "deploy/fb.env", "FACEBOOK_APP_ID={digits16}\n«FACEBOOK_APP_SECRET_MD5»={hex32}\n"),
        ("yaml", "config/slack.yml", "slack:\n  «SLACK_CLIENT_SECRET_MD5»: {hex32}\n"),
        (
            "yaml",
            "db/oauth_clients.yml",
            '- client_id: orders\n  «client_secret»: "$2b$12${bcrypt53}"\n',
        ),
        (
            "json",
            "fixtures/initial.json",
            '[{{"model": "oauth2_provider.application", "fields": {{"client_id": "{alnum40}",'
            ' «"client_secret"»: "pbkdf2_sha256$600000${alnum22}${b64_32}"}}}}]\n',
        ),
        ("python", "app/audit.py", "# «sha256(client_secret)» = {hex64}\nAUDIT = True\n"),
    ],
    "uuid-near-secret": [
        ("env", ".env", "AZURE_CLIENT_ID={uuid}\n«AZURE_CLIENT_SECRET_ID»={uuid}\n"),
        (
            "json",
            "azure/credential.json",
            '{{"displayName": "ci client secret", «"keyId"»: "{uuid}", "secretText": null}}\n',
        ),
        ("yaml", "config/azure.yml", "azure:\n  «client_secret_id»: {uuid}\n"),
        ("python", "app/rotation.py", '«SECRET_KEY_ID» = "{uuid}"  # which client secret\n'),
        ("typescript", "src/config.ts", 'export const «clientSecretId» = "{uuid}";\n'),
        (
            "log",
            "logs/rotation.log",
            "2024-05-01 INFO «client secret» {uuid} rotated, next rotation 2024-08-01\n",
        ),
    ],
    "function-call": [
        ("python", "app/a.py", '«CLIENT_SECRET» = get_secret("oauth/client-secret-v2")\n'),
        (
            "python",
            "app/b.py",
            "«client_secret» = base64.b64decode(ENCODED_CLIENT_SECRET_V2).decode()\n",
        ),
        (
            "python",
            "app/c.py",
            '«client_secret»=vault.secrets.kv.read_secret_version(path="oauth2")["data"]\n',
        ),
        ("javascript", "src/a.js", "  «clientSecret»: await getSecret('orders/clientSecret2'),\n"),
        ("javascript", "src/b.js", "  «clientSecret»: config.get('oauth.clientSecret'),\n"),
        (
            "javascript",
            "src/c.js",
            "const «clientSecret» = fs.readFileSync('/run/secrets/client_secret', 'utf8')"
            ".trim();\n",
        ),
        (
            "javascript",
            "src/d.js",
            "  «clientSecret»: decryptSecret(ENCRYPTED_CLIENT_SECRET_V2),\n",
        ),
        ("java", "src/A.java", 'String «clientSecret» = System.getenv("OAUTH_CLIENT_SECRET");\n'),
        (
            "java",
            "src/B.java",
            "    .«clientSecret»(secretsManager.getSecretValue(request).secretString())\n",
        ),
        ("go", "auth/a.go", '\t«clientSecret» := os.Getenv("OAUTH2_CLIENT_SECRET")\n'),
        ("go", "auth/b.go", '\t«ClientSecret»: mustReadSecret("client_secret_v2"),\n'),
        (
            "csharp",
            "A.cs",
            '«options.ClientSecret» = Configuration["Authentication:Google:ClientSecret"];\n',
        ),
        ("ruby", "a.rb", '  «client_secret»: ENV.fetch("OAUTH2_CLIENT_SECRET"),\n'),
        ("php", "a.php", "    «'client_secret'» => env('OAUTH2_CLIENT_SECRET'),\n"),
        (
            "kotlin",
            "A.kt",
            'val «clientSecret» = requireNotNull(System.getenv("CLIENT_SECRET2"))\n',
        ),
        (
            "swift",
            "A.swift",
            'let «clientSecret» = Bundle.main.object(forInfoDictionaryKey: "ClientSecret2")\n',
        ),
        ("terraform", "a.tf", "  «client_secret» = azuread_application_password.api2.value\n"),
        ("terraform", "b.tf", '  «client_secret» = data.vault_generic_secret.oauth2.data["v"]\n'),
        ("shell", "a.sh", "«CLIENT_SECRET»=$(vault kv get -field=client_secret secret/oauth2)\n"),
        ("shell", "b.sh", 'export «CLIENT_SECRET»="$(cat /run/secrets/client_secret_v2)"\n'),
        ("python", "app/views.py", '«client_secret» = request.form["client_secret"]\n'),
        (
            "ruby",
            "app/controllers/oauth_controller.rb",
            "«client_secret» = params[:client_secret]\n",
        ),
        ("php", "public/token.php", "$«clientSecret» = $_POST['client_secret'];\n"),
        (
            "yaml",
            "k8s/deploy.yml",
            "env:\n  - name: «CLIENT_SECRET»\n    valueFrom:\n      secretKeyRef:\n"
            "        name: oauth2-client\n        key: client-secret\n",
        ),
        (
            "notebook",
            "nb.ipynb",
            '{{"cells": [{{"cell_type": "code", "source": ["«client_secret» = getpass.getpass('
            '\\"Client secret v2: \\")\\n"]}}]}}\n',
        ),
    ],
    "config-key-name": [
        ("python", "app/d.py", '«client_secret_name» = "orders-api-client-secret-v2"\n'),
        ("yaml", "config/e.yml", "oauth:\n  «clientSecretName»: prod-oauth2-client-secret-2\n"),
        (
            "env",
            "f.env",
            "«CLIENT_SECRET_ARN»=arn:aws:secretsmanager:eu-west-1:{digits12}:secret:prod/oauth2-"
            "{alnum6}\n",
        ),
        (
            "yaml",
            "config/g.yml",
            "«client_secret_path»: /var/run/secrets/oauth2/client-secret-v2\n",
        ),
        (
            "python",
            "app/h.py",
            '«CLIENT_SECRET_FILE» = "client_secret_{digits12}-{lower32}.apps.googleusercontent.com'
            '.json"\n',
        ),
        (
            "yaml",
            "charts/values.yaml",
            "oidc:\n  existingSecret: oauth2-proxy-v2\n  «clientSecretKey»: oidc-client-secret-2\n",
        ),
        ("json", "i.json", '{{"«clientSecretSecretName»": "azure-ad-client-secret-v3"}}\n'),
        ("terraform", "j.tf", '  «client_secret_env_var» = "OAUTH2_CLIENT_SECRET_V2"\n'),
        ("xml", "k.config", '<add key="«ClientSecretKeyVaultName»" value="kv-prod-weu-001" />\n'),
        (
            "yaml",
            "config/l.yml",
            "«client_secret_ref»: projects/{digits12}/secrets/oauth-client-secret/versions/3\n",
        ),
        ("yaml", "config/n.yml", "oauth2:\n  «client_secret»: OAUTH2_CLIENT_SECRET_V2\n"),
        ("json", "o.json", '{{"«clientSecret»": "AZURE_AD_CLIENT_SECRET_2"}}\n'),
        (
            "properties",
            "m.properties",
            "«oauth.client-secret-location»=classpath:secrets/client-secret-v2.txt\n",
        ),
    ],
    "minified": [
        ("javascript", "dist/a.min.js", 'MINIFIED:clientId:"spa",«clientSecret»:_0x{hex12},x:1'),
        ("javascript", "dist/b.min.js", "MINIFIED:«client_secret»:{ident13},client_id:n"),
        ("javascript", "dist/c.min.js", "MINIFIED:«clientSecret»:e.{ident12},clientId:e.{ident8}"),
        (
            "javascript",
            "dist/d.min.js",
            'MINIFIED:«clientSecret»:null!==(o=t.clientSecret)&&void 0!==o?o:""',
        ),
        ("javascript", "dist/e.min.js", "MINIFIED:{{«clientSecret»:r,clientId:n}}"),
        ("javascript", "dist/f.min.js", "MINIFIED:«clientSecret»:{ident14}({ident9}.secret)"),
        (
            "javascript",
            "dist/g.min.js",
            'MINIFIED:var {ident14}={{«client_secret»:{ident15},scope:"openid"}}',
        ),
    ],
    "encrypted-value": [
        (
            "yaml",
            "secrets/sops.yaml",
            "oauth:\n  «client_secret»: ENC[AES256_GCM,data:{b64_32},iv:{b64_12},"
            "tag:{b64_16},type:str]\n",
        ),
        (
            "yaml",
            "group_vars/all/vault.yml",
            "«client_secret»: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {hex64}\n  {hex64}\n",
        ),
        (
            "yaml",
            "deploy/sealed.yaml",
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n"
            "    «client_secret»: AgB{b64_520}\n",
        ),
        ("yaml", "serverless.yml", "  «client_secret»: AQICAH{b64_178}\n"),
        ("env", "vault.env", "«CLIENT_SECRET»=vault:v1:{b64_48}\n"),
        ("yaml", "config-repo/orders.yml", "oauth:\n  «client-secret»: '{{cipher}}{hex64}'\n"),
        ("properties", "jasypt.properties", "«oauth.client-secret»=ENC({b64_48})\n"),
    ],
    "templated": [
        ("yaml", "a.yml", "«client_secret»: ${{OAUTH_CLIENT_SECRET}}\n"),
        (
            "yaml",
            "chart/templates/secret.yaml",
            "«clientSecret»: {{{{ .Values.oauth.clientSecret }}}}\n",
        ),
        ("yaml", "b.yml", "«client_secret»: <%= ENV['OAUTH_CLIENT_SECRET'] %>\n"),
        ("yaml", "cfn.yml", "      «ClientSecret»: !Ref OAuthClientSecretParam2\n"),
        (
            "yaml",
            "cfn2.yml",
            "      «ClientSecret»: '{{{{resolve:secretsmanager:prod/oauth2:SecretString:v2}}}}'\n",
        ),
        ("python", "c.py", '«client_secret» = "%(client_secret)s"\n'),
        ("properties", "d.properties", "«client.secret»=@@OAUTH_CLIENT_SECRET_V2@@\n"),
        ("xml", "e.config", '<add key="«ClientSecret»" value="#{{OAuthClientSecret2}}" />\n'),
        ("yaml", "azure-pipelines.yml", "  «CLIENT_SECRET»: $(OAuthClientSecret2)\n"),
        ("json", "f.json", '{{"«clientSecret»": "__OAUTH_CLIENT_SECRET_V2__"}}\n'),
        ("yaml", "application.yml", "  «client-secret»: ${{OAUTH_SECRET:}}\n"),
        (
            "yaml",
            ".github/workflows/ci.yml",
            "      «CLIENT_SECRET»: ${{{{ secrets.CLIENT_SECRET_V2 }}}}\n",
        ),
    ],
    "near-miss": [
        ("json", "a.json", '{{"client_id": "x", «"client_secret_expires_at"»: 0}}\n'),
        ("json", "b.json", '{{«"token_endpoint_auth_method"»: "client_secret_basic"}}\n'),
        (
            "yaml",
            "c.yml",
            "«token_endpoint_auth_methods_supported»: [client_secret_post, "
            "client_secret_jwt, private_key_jwt]\n",
        ),
        ("yaml", "d.yml", "«client_secret»: null\n"),
        ("env", "e.env", '«CLIENT_SECRET»=""\n'),
        (
            "markdown",
            "docs/api.md",
            "| «client_secret» | string | yes | The secret issued at registration (RFC 6749) |\n",
        ),
        (
            "markdown",
            "docs/b.md",
            "Set the «client_secret» parameter to the value shown once in the console v2.\n",
        ),
        (
            "text",
            "help.txt",
            "  --«client-secret» string     OAuth client secret (env CLIENT_SECRET2)\n",
        ),
        ("python", "f.py", "    «client_secret»: str | None = None  # set by configure_v2()\n"),
        ("typescript", "g.ts", "  «clientSecret»?: string; // populated from vault2\n"),
    ],
}


def fill(template: str, values: Values) -> tuple[str, str]:
    """Fill ``{shape}`` fields with fresh values and take the «anchor» out."""
    v = values
    generators = {
        "hex64": lambda: v.s("hex", 64),
        "hex40": lambda: v.s("hex", 40),
        "hex32": lambda: v.s("hex", 32),
        "hex12": lambda: v.s("hex", 12),
        "HEX64": lambda: v.s("HEX", 64),
        "b64u43": lambda: v.s("b64u", 43),
        "b64_12": lambda: v.b64(12),
        "b64_16": lambda: v.b64(16),
        "b64_32": lambda: v.b64(32),
        "b64_48": lambda: v.b64(48),
        "b64_178": lambda: v.b64(133)[:178],
        "b64_520": lambda: v.b64(390),
        "alnum6": lambda: v.s("alnum", 6),
        "alnum16": lambda: v.s("alnum", 16),
        "alnum17": lambda: v.s("alnum", 17),
        "alnum22": lambda: v.s("alnum", 22),
        "alnum40": lambda: v.s("alnum", 40),
        "alnum80": lambda: v.s("alnum", 80),
        "digits12": lambda: v.s("digits", 12),
        "digits16": lambda: v.s("digits", 16),
        "lower32": lambda: v.s("lower", 32),
        "uuid": v.uuid,
        "bcrypt53": lambda: v.s("b64", 53).replace("+", ".").replace("/", "."),
        "ident8": lambda: v.s("alnum", 1).lower() + v.s("alnum", 7),
        "ident9": lambda: _identifier(v, 9),
        "ident12": lambda: _identifier(v, 12),
        "ident13": lambda: _identifier(v, 13),
        "ident14": lambda: _identifier(v, 14),
        "ident15": lambda: _identifier(v, 15),
    }

    class Fields(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return generators[key]()

    text = template.format_map(Fields())
    if text.startswith("MINIFIED:"):
        text = minified_bundle(v.rng, text[len("MINIFIED:") :])
    anchor = text[text.index("«") + 1 : text.index("»")]
    return text.replace("«", "").replace("»", ""), anchor


def _identifier(v: Values, length: int) -> str:
    return v.pick("_", "$", "") + v.s("alnum", 1).replace("0", "a") + v.s("alnum", length - 2)


def decoy_provider(template: str) -> str:
    for provider, word in (
        ("github", "GITHUB"),
        ("okta", "0oa"),
        ("salesforce", "3MVG"),
        ("auth0", "AUTH0"),
        ("facebook", "FACEBOOK"),
        ("slack", "SLACK"),
        ("azure", "AZURE"),
    ):
        if word in template:
            return provider
    return "generic"


def minified_bundle(rng: random.Random, inner: str) -> str:
    """One long line of bundled JavaScript around ``inner``."""
    names = [
        "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            for _ in range(rng.randint(1, 2))
        )
        for _ in range(60)
    ]
    chunks = []
    for i in range(40):
        a, b, c = names[i], names[i + 1], names[i + 2]
        chunks.append(f"function {a}({b},{c}){{return {b}&&{c}.{a}?{b}[{c}]:void 0}}")
    half = len(chunks) // 2
    return (
        '!function(){"use strict";'
        + ";".join(chunks[:half])
        + f";var cfg={{{inner}}};"
        + ";".join(chunks[half:])
        + "}();\n"
    )


def doc_placeholder(secret: str, provider: str, rng: random.Random) -> str:
    """A documentation stand-in for ``secret``: the shape kept, the randomness gone."""
    prefix = ""
    for p in ("GOCSPX-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "WPL_AP1."):
        if secret.startswith(p):
            prefix = p
    style = rng.choice(("mask", "your", "example", "elided"))
    body = secret[len(prefix) :]
    if style == "mask":
        return prefix + rng.choice("xX*") * len(body)
    if style == "your":
        return f"<your-{provider}-client-secret>"
    if style == "example" and not all(c in "0123456789abcdefABCDEF" for c in body):
        return prefix + "EXAMPLE" + body[7:]
    if style == "example":
        return prefix + ("0123456789abcdef" * 5)[: len(body)]
    return prefix + body[:4] + "..."


# -- output ----------------------------------------------------------------------------------


def write_tree(root: Path, files: Iterable[File], source: str, start_id: int) -> list[Label]:
    """Write files under ``root`` and resolve their marks into labels."""
    labels: list[Label] = []
    for f in files:
        target = root / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8", newline="\n")
        for mark in f.marks:
            labels.append(resolve(mark, f, source, start_id + len(labels)))
    return labels


def write_artifacts(root: Path, packages: Iterable[Package], start_id: int) -> list[Label]:
    """Write artifacts under ``root``; a member's label carries its whole chain."""
    labels: list[Label] = []
    for package in packages:
        target = root / package.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(package.data)
        for chain, text, marks in package.members:
            inner = File(f"{package.path}!{chain}", text, marks)
            labels += [resolve(m, inner, "artifact", start_id + len(labels)) for m in marks]
        for mark in package.whole:
            labels.append(
                resolve(mark, File(package.path, "", []), "artifact", start_id + len(labels))
            )
    return labels


def resolve(mark: Mark, f: File, source: str, label_id: int, **extra: str | None) -> Label:
    if mark.anywhere:
        return Label(
            label_id,
            source,
            f.path,
            None,
            mark.kind,
            mark.provider,
            mark.expected,
            mark.category,
            mark.format,
            mark.rule,
            mark.note,
        )
    lines = f.text.split("\n")
    hits = [i for i, line in enumerate(lines) if mark.anchor in line]
    if len(hits) != 1:
        raise ValueError(f"{f.path}: anchor {mark.anchor[:30]!r} found {len(hits)} times")
    index = hits[0] + mark.offset
    if mark.back_to is not None:
        while mark.back_to not in lines[index]:
            index -= 1
    return Label(
        id=label_id,
        source=source,
        path=f.path,
        line=index + 1,
        kind=mark.kind,
        provider=mark.provider,
        expected=mark.expected,
        category=mark.category,
        format=mark.format,
        rule=mark.rule,
        note=mark.note,
        commit=extra.get("commit"),
        blob=extra.get("blob"),
    )


def generate(out: Path, seed: int = 9, repeat: int = 1) -> list[Label]:
    """Write the corpus under ``out`` (tree/, artifact/, history/ and labels.jsonl); returns
    the labels."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(seed, repeat)
    labels = write_tree(out / "tree", corpus.build_tree(), "tree", 0)
    labels += write_artifacts(out / "artifact", corpus.build_artifacts(), len(labels))
    from benchmarks.accuracy import history  # it builds on this module's cases

    labels += history.build(out / "history", corpus, len(labels))
    save_labels(out, labels, seed, repeat)
    return labels


def save_labels(out: Path, labels: Sequence[Label], seed: int, repeat: int) -> None:
    with open(out / "labels.jsonl", "w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(dataclasses.asdict(label), sort_keys=True) + "\n")
    manifest = {"seed": seed, "repeat": repeat, "labels": len(labels)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def load_labels(out: Path) -> list[Label]:
    with open(out / "labels.jsonl", encoding="utf-8") as fh:
        return [Label(**json.loads(line)) for line in fh if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    labels = generate(args.out, args.seed, args.repeat)
    positives = sum(1 for label in labels if label.expected == POSITIVE)
    print(f"{len(labels)} labels ({positives} positive) in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

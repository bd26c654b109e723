"""Seeded credential values in each provider's real shape, and the keys they are stored under.

A ``CredentialSet`` is what one application's configuration holds for one provider: the
client id (and tenant, domain...) next to the secret. Names are word tuples so every format
can spell them its own way (``SLACK_CLIENT_SECRET``, ``slackClientSecret``,
``slack.client-secret``).
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from dataclasses import dataclass

ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "lower": string.ascii_lowercase + string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "digits": string.digits,
    "b64u": string.ascii_letters + string.digits + "-_",
    "b64": string.ascii_letters + string.digits + "+/",
    "azure": string.ascii_letters + string.digits + "-_.~",
}


@dataclass(frozen=True)
class Entry:
    """One key/value of a configuration; ``secret`` marks the value a scanner must find."""

    words: tuple[str, ...]
    value: str
    secret: bool = False


@dataclass(frozen=True)
class CredentialSet:
    """One provider's client credentials as an application configures them."""

    provider: str
    """The provider the label names (``generic`` for a bare client_secret)."""
    rule: str
    """The rule that should report the secret."""
    kind: str
    group: str
    """The word a nested configuration files the entries under (``slack:``)."""
    entries: tuple[Entry, ...]

    @property
    def secret(self) -> Entry:
        return next(e for e in self.entries if e.secret)


class Values:
    """Random strings of a given shape, all from the corpus RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def s(self, alphabet: str, length: int) -> str:
        """A random string with at least one digit and one letter when the alphabet has both
        (real issued secrets practically always do at these lengths)."""
        chars = ALPHABETS[alphabet]
        need_digit = length >= 6 and any(c.isdigit() for c in chars)
        need_alpha = length >= 6 and any(c.isalpha() for c in chars)
        while True:
            value = "".join(self.rng.choice(chars) for _ in range(length))
            if (not need_digit or any(c.isdigit() for c in value)) and (
                not need_alpha or any(c.isalpha() for c in value)
            ):
                return value

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(nbytes)).decode()

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)

    # -- providers -------------------------------------------------------------------------

    def credential_set(self, provider: str) -> CredentialSet:
        return getattr(self, "_" + provider.replace("-", "_"))()  # type: ignore[no-any-return]

    def google_client_id(self) -> str:
        return f"{self.s('digits', 12)}-{self.s('lower', 32)}.apps.googleusercontent.com"

    def _google(self) -> CredentialSet:
        return CredentialSet(
            "google",
            "google-oauth-client-secret",
            "client-secret",
            "google",
            (
                Entry(("google", "client", "id"), self.google_client_id()),
                Entry(("google", "client", "secret"), "GOCSPX-" + self.s("b64u", 28), True),
            ),
        )

    def github_client_id(self) -> str:
        prefix = self.pick("Iv23", "Ov23", "Iv1.", "classic")
        if prefix == "Iv1.":
            return "Iv1." + self.s("hex", 16)
        if prefix == "classic":
            return self.s("hex", 20)
        return prefix + self.s("alnum", 16)

    def _github(self) -> CredentialSet:
        return CredentialSet(
            "github",
            "github-oauth-client-secret",
            "client-secret",
            "github",
            (
                Entry(("github", "client", "id"), self.github_client_id()),
                Entry(("github", "client", "secret"), self.s("hex", 40), True),
            ),
        )

    def _github_token(self) -> CredentialSet:
        if self.rng.random() < 0.2:
            token = f"github_pat_{self.s('alnum', 22)}_{self.s('alnum', 59)}"
        else:
            token = f"gh{self.pick('p', 'o', 'u', 's', 'r')}_{self.s('alnum', 36)}"
        return CredentialSet(
            "github",
            "github-token",
            "token",
            "github",
            (Entry(("github", "token"), token, True),),
        )

    def azure_secret(self) -> str:
        return f"{self.s('alnum', 3)}{self.rng.randrange(10)}Q~{self.s('azure', 34)}"

    def _azure(self) -> CredentialSet:
        return CredentialSet(
            "azure",
            "azure-ad-client-secret",
            "client-secret",
            "azure",
            (
                Entry(("azure", "tenant", "id"), self.uuid()),
                Entry(("azure", "client", "id"), self.uuid()),
                Entry(("azure", "client", "secret"), self.azure_secret(), True),
            ),
        )

    def _okta(self) -> CredentialSet:
        return CredentialSet(
            "okta",
            "okta-client-secret",
            "client-secret",
            "okta",
            (
                Entry(("okta", "domain"), f"dev-{self.s('digits', 8)}.okta.com"),
                Entry(("okta", "client", "id"), "0oa" + self.s("alnum", 17)),
                Entry(
                    ("okta", "client", "secret"), self.s("b64u", self.rng.choice((40, 64))), True
                ),
            ),
        )

    def _auth0(self) -> CredentialSet:
        tenant = self.pick("acme", "shop-prod", "orders", "payroll-eu") + self.s("lower", 3)
        region = self.pick("", ".us", ".eu", ".au")
        return CredentialSet(
            "auth0",
            "auth0-client-secret",
            "client-secret",
            "auth0",
            (
                Entry(("auth0", "domain"), f"{tenant}{region}.auth0.com"),
                Entry(("auth0", "client", "id"), self.s("alnum", 32)),
                Entry(("auth0", "client", "secret"), self.s("b64u", 64), True),
            ),
        )

    def _salesforce(self) -> CredentialSet:
        secret = self.s("HEX", 64) if self.rng.random() < 0.5 else self.s("digits", 19)
        return CredentialSet(
            "salesforce",
            "salesforce-consumer-secret",
            "client-secret",
            "salesforce",
            (
                Entry(("salesforce", "consumer", "key"), "3MVG9" + self.s("alnum", 80)),
                Entry(("salesforce", "consumer", "secret"), secret, True),
            ),
        )

    def _slack(self) -> CredentialSet:
        return CredentialSet(
            "slack",
            "slack-client-secret",
            "client-secret",
            "slack",
            (
                Entry(("slack", "client", "id"), f"{self.s('digits', 12)}.{self.s('digits', 13)}"),
                Entry(("slack", "client", "secret"), self.s("hex", 32), True),
            ),
        )

    def _facebook(self) -> CredentialSet:
        return CredentialSet(
            "facebook",
            "facebook-app-secret",
            "client-secret",
            "facebook",
            (
                Entry(("facebook", "app", "id"), self.s("digits", 16)),
                Entry(("facebook", "app", "secret"), self.s("hex", 32), True),
            ),
        )

    def _discord(self) -> CredentialSet:
        return CredentialSet(
            "discord",
            "discord-client-secret",
            "client-secret",
            "discord",
            (
                Entry(("discord", "client", "id"), self.s("digits", 18)),
                Entry(("discord", "client", "secret"), self.s("b64u", 32), True),
            ),
        )

    def _twitter(self) -> CredentialSet:
        kind = self.pick("api", "consumer")
        return CredentialSet(
            "twitter",
            "twitter-api-secret",
            "client-secret",
            "twitter",
            (
                Entry(("twitter", kind, "key"), self.s("alnum", 25)),
                Entry(("twitter", kind, "secret"), self.s("alnum", 50), True),
            ),
        )

    def _linkedin(self) -> CredentialSet:
        if self.rng.random() < 0.3:
            secret = f"WPL_AP1.{self.s('alnum', 16)}.{self.b64(4)}"
        else:
            secret = self.s("alnum", 16)
        return CredentialSet(
            "linkedin",
            "linkedin-client-secret",
            "client-secret",
            "linkedin",
            (
                Entry(("linkedin", "client", "id"), self.s("lower", 14)),
                Entry(("linkedin", "client", "secret"), secret, True),
            ),
        )

    def _dropbox(self) -> CredentialSet:
        return CredentialSet(
            "dropbox",
            "dropbox-app-secret",
            "client-secret",
            "dropbox",
            (
                Entry(("dropbox", "app", "key"), self.s("lower", 15)),
                Entry(("dropbox", "app", "secret"), self.s("lower", 15), True),
            ),
        )

    def _keycloak(self) -> CredentialSet:
        host = self.pick("sso", "auth", "login", "id") + "." + self.pick("corp", "shop", "acme")
        return CredentialSet(
            "keycloak",
            "keycloak-client-secret",
            "client-secret",
            "keycloak",
            (
                Entry(("keycloak", "url"), f"https://{host}.example/realms/main"),
                Entry(("keycloak", "client", "id"), self.pick("orders-api", "billing", "portal")),
                Entry(("keycloak", "client", "secret"), self.s("alnum", 32), True),
            ),
        )

    def generic_secret(self) -> str:
        shape = self.pick("alnum32", "alnum40", "b64u43", "hex40", "b64-44", "alnum24")
        if shape == "b64-44":
            return self.b64(32)
        alphabet = shape.rstrip("0123456789").rstrip("-")
        return self.s(alphabet, int(shape[len(alphabet) :]))

    def _generic(self) -> CredentialSet:
        service = self.pick("orders", "billing", "inventory", "reports", "gateway", "crm")
        return CredentialSet(
            "generic",
            "generic-client-secret",
            "client-secret",
            "oauth",
            (
                Entry(("oauth", "client", "id"), f"{service}-service"),
                Entry(("oauth", "client", "secret"), self.generic_secret(), True),
            ),
        )


PROVIDERS: tuple[str, ...] = (
    "google",
    "github",
    "github-token",
    "azure",
    "okta",
    "auth0",
    "salesforce",
    "slack",
    "facebook",
    "discord",
    "twitter",
    "linkedin",
    "dropbox",
    "keycloak",
    "generic",
)

"""Provider plugins: one small module per identity provider, each checking credentials at
that provider's fixed public endpoint (overridable: ``VerifyOptions.endpoints[name]``)."""

from __future__ import annotations

from collections.abc import Mapping

from scanner.verify.base import Credential, Verifier
from scanner.verify.providers.auth0 import Auth0Verifier
from scanner.verify.providers.azure import AzureVerifier
from scanner.verify.providers.common import ProviderVerifier
from scanner.verify.providers.github import GitHubAppVerifier, GitHubOAuthVerifier, app_identifier
from scanner.verify.providers.google import GoogleVerifier
from scanner.verify.providers.okta import OktaVerifier
from scanner.verify.providers.salesforce import SalesforceVerifier
from scanner.verify.providers.slack import SlackVerifier

SECRET_VERIFIERS: dict[str, type[ProviderVerifier]] = {
    "google": GoogleVerifier,
    "github": GitHubOAuthVerifier,
    "azure": AzureVerifier,
    "okta": OktaVerifier,
    "auth0": Auth0Verifier,
    "slack": SlackVerifier,
    "salesforce": SalesforceVerifier,
}
NAMES = (*SECRET_VERIFIERS, GitHubAppVerifier.name)

__all__ = ["NAMES", "SECRET_VERIFIERS", "provider_verifier"]


def provider_verifier(
    provider: str | None, credential: Credential, endpoints: Mapping[str, str]
) -> Verifier | None:
    """The plugin that checks ``credential`` for ``provider`` (a rule's provider, or the one
    the registry names), or None when no plugin applies."""
    if credential.kind == "private-key":
        if provider == GitHubAppVerifier.name or app_identifier(credential) is not None:
            return GitHubAppVerifier(endpoints.get("github-app") or endpoints.get("github"))
        return None
    if provider == "salesforce":
        return SalesforceVerifier(endpoints.get("salesforce"), endpoints.get("salesforce-sandbox"))
    plugin = SECRET_VERIFIERS.get(provider or "")
    return plugin(endpoints.get(plugin.name)) if plugin else None

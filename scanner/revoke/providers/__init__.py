"""Provider admin APIs, one small module each: ``revoke = "provider:NAME"`` in the registry."""

from __future__ import annotations

from scanner.revoke.providers.auth0 import Auth0Rotate
from scanner.revoke.providers.azure import AzureRotate
from scanner.revoke.providers.common import ProviderBackend
from scanner.revoke.providers.github import GitHubRevokeTokens
from scanner.revoke.providers.keycloak import KeycloakRotate
from scanner.revoke.providers.okta import OktaRotate

PROVIDERS: dict[str, type[ProviderBackend]] = {
    "auth0": Auth0Rotate,
    "okta": OktaRotate,
    "keycloak": KeycloakRotate,
    "azure": AzureRotate,
    "github": GitHubRevokeTokens,
}

__all__ = ["PROVIDERS"]

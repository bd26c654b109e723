"""How each language and configuration format spells a set of credentials.

``render(fmt, style, creds, rng)`` returns a whole file (path and text): the entries of a
``CredentialSet`` written the way that format's users write them, with ordinary code around
them. ``STYLES`` lists the spellings each format gets: ``flat`` keys carry the provider name
(``SLACK_CLIENT_SECRET``), ``nested`` ones sit under a provider section (``slack:`` /
``client_secret:``), ``call`` passes them to a constructor, builder or command.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence

from benchmarks.accuracy.values import CredentialSet, Entry

# -- names -----------------------------------------------------------------------------------


def upper(words: Sequence[str]) -> str:
    return "_".join(w.upper() for w in words)


def snake(words: Sequence[str]) -> str:
    return "_".join(words)


def camel(words: Sequence[str]) -> str:
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def pascal(words: Sequence[str]) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


def kebab(words: Sequence[str]) -> str:
    return "-".join(words)


def dotted(words: Sequence[str]) -> str:
    return ".".join(words)


def inner(entry: Entry) -> tuple[str, ...]:
    """The entry's words without the provider word, as under a provider section."""
    return entry.words[1:] if len(entry.words) > 1 else entry.words


# -- formats ---------------------------------------------------------------------------------

Renderer = Callable[[str, CredentialSet, random.Random], tuple[str, str]]

STYLES: dict[str, tuple[str, ...]] = {
    "python": ("flat", "nested", "call"),
    "javascript": ("flat", "nested", "call"),
    "typescript": ("flat", "nested"),
    "java": ("flat", "call"),
    "kotlin": ("flat", "call"),
    "go": ("flat", "nested"),
    "csharp": ("flat", "nested"),
    "ruby": ("flat", "nested"),
    "php": ("flat", "nested"),
    "swift": ("flat", "nested"),
    "yaml": ("flat", "nested", "flow"),
    "json": ("flat", "nested"),
    "env": ("flat",),
    "properties": ("flat", "nested"),
    "xml": ("flat", "nested"),
    "android-xml": ("flat",),
    "terraform": ("flat", "nested"),
    "shell": ("flat", "call"),
    "dockerfile": ("flat",),
    "notebook": ("flat", "call"),
    "toml": ("flat", "nested"),
    "ini": ("nested",),
}


def render(fmt: str, style: str, creds: CredentialSet, rng: random.Random) -> tuple[str, str]:
    """(relative path, file text) of ``creds`` written in ``fmt`` and ``style``."""
    return RENDERERS[fmt](style, creds, rng)


TOKEN_URLS = {
    "google": "https://oauth2.googleapis.com/token",
    "github": "https://github.com/login/oauth/access_token",
    "azure": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "okta": "https://acme.okta.com/oauth2/default/v1/token",
    "auth0": "https://acme.us.auth0.com/oauth/token",
    "salesforce": "https://login.salesforce.com/services/oauth2/token",
    "slack": "https://slack.com/api/oauth.v2.access",
    "facebook": "https://graph.facebook.com/oauth/access_token",
    "discord": "https://discord.com/api/oauth2/token",
    "twitter": "https://api.twitter.com/oauth2/token",
    "linkedin": "https://www.linkedin.com/oauth/v2/accessToken",
    "dropbox": "https://api.dropboxapi.com/oauth2/token",
    "keycloak": "https://sso.corp.example/realms/main/protocol/openid-connect/token",
    "oauth": "https://login.example.com/oauth2/token",
}


def _q(rng: random.Random, *quotes: str) -> str:
    return rng.choice(quotes or ('"', "'"))


def python(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng)
    head = [
        '"""Runtime settings."""',
        "import logging",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    if style == "flat":
        body = [f"{upper(e.words)} = {q}{e.value}{q}" for e in c.entries]
    elif style == "nested":
        body = ["OAUTH_PROVIDERS = {", f'    "{c.group}": {{']
        body += [f'        "{snake(inner(e))}": {q}{e.value}{q},' for e in c.entries]
        body += ["    },", "}"]
    else:
        args = ", ".join(f"{snake(inner(e))}={q}{e.value}{q}" for e in c.entries)
        body = ["", "def make_client():", f"    return {pascal([c.group])}OAuth({args})"]
    tail = ["", "", "def enabled() -> bool:", "    return True", ""]
    return "config/settings.py", "\n".join(head + body + tail)


def javascript(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng, '"', "'", "`")
    head = ["'use strict';", "const express = require('express');", ""]
    if style == "flat":
        body = [f"const {upper(e.words)} = {q}{e.value}{q};" for e in c.entries]
        body.append(f"module.exports = {{ {', '.join(upper(e.words) for e in c.entries)} }};")
    elif style == "nested":
        body = ["module.exports = {", f"  {c.group}: {{"]
        body += [f"    {camel(inner(e))}: {q}{e.value}{q}," for e in c.entries]
        body += ["  },", "};"]
    else:
        body = [f"passport.use(new {pascal([c.group])}Strategy({{"]
        body += [f"  {camel(inner(e))}: {q}{e.value}{q}," for e in c.entries]
        body += ["  callbackURL: '/auth/callback',", "}, verify));"]
    return "src/auth.js", "\n".join(head + body + [""])


def typescript(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng, '"', "'")
    head = ["import { Injectable } from '@angular/core';", ""]
    if style == "flat":
        body = [f"export const {camel(e.words)}: string = {q}{e.value}{q};" for e in c.entries]
    else:
        body = ["export const environment = {", "  production: true,", f"  {c.group}: {{"]
        body += [f"    {camel(inner(e))}: {q}{e.value}{q}," for e in c.entries]
        body += ["  },", "};"]
    return "src/environments/environment.prod.ts", "\n".join(head + body + [""])


def java(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    head = ["package com.acme.auth;", "", "public final class OAuthSettings {"]
    if style == "flat":
        body = [
            f'    private static final String {upper(e.words)} = "{e.value}";' for e in c.entries
        ]
    else:
        body = [
            "    static ClientRegistration registration() {",
            "        return ClientRegistration",
        ]
        body.append(f'            .withRegistrationId("{c.group}")')
        body += [f'            .{camel(inner(e))}("{e.value}")' for e in c.entries]
        body += ["            .build();", "    }"]
    return "src/main/java/com/acme/auth/OAuthSettings.java", "\n".join(head + body + ["}", ""])


def kotlin(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    head = ["package com.acme.auth", ""]
    if style == "flat":
        body = ["object OAuthSettings {"]
        body += [f'    const val {upper(e.words)} = "{e.value}"' for e in c.entries]
        body += ["}"]
    else:
        body = ["fun registration(): ClientRegistration =", "    ClientRegistration"]
        body.append(f'        .withRegistrationId("{c.group}")')
        body += [f'        .{camel(inner(e))}("{e.value}")' for e in c.entries]
        body += ["        .build()"]
    return "app/src/main/kotlin/com/acme/auth/OAuthSettings.kt", "\n".join(head + body + [""])


def go(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    head = ["package auth", "", 'import "golang.org/x/oauth2"', ""]
    if style == "flat":
        body = ["const ("]
        body += [f'\t{camel(e.words)} = "{e.value}"' for e in c.entries]
        body += [")"]
    else:
        body = [f"var {c.group}Config = &oauth2.Config{{"]
        body += [f'\t{pascal(inner(e))}: "{e.value}",' for e in c.entries]
        body += ['\tScopes: []string{"openid"},', "}"]
    return "internal/auth/config.go", "\n".join(head + body + [""])


def csharp(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    head = ["namespace Acme.Auth;", ""]
    if style == "flat":
        body = ["public static class OAuthSettings", "{"]
        body += [f'    public const string {pascal(e.words)} = "{e.value}";' for e in c.entries]
        body += ["}"]
    else:
        body = [
            "builder.Services.AddAuthentication()",
            f"    .Add{pascal([c.group])}(options =>",
            "    {",
        ]
        body += [f'        options.{pascal(inner(e))} = "{e.value}";' for e in c.entries]
        body += ["    });"]
    return "src/Acme.Auth/OAuthSettings.cs", "\n".join(head + body + [""])


def ruby(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng)
    head = ["# frozen_string_literal: true", ""]
    if style == "flat":
        body = [f"{upper(e.words)} = {q}{e.value}{q}" for e in c.entries]
    else:
        body = ["Rails.application.config.oauth = {", f"  {c.group}: {{"]
        body += [f"    {snake(inner(e))}: {q}{e.value}{q}," for e in c.entries]
        body += ["  }", "}"]
    return "config/initializers/oauth.rb", "\n".join(head + body + [""])


def php(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng)
    head = ["<?php", ""]
    if style == "flat":
        body = [f"define({q}{upper(e.words)}{q}, {q}{e.value}{q});" for e in c.entries]
    else:
        body = ["return [", f"    '{c.group}' => ["]
        body += [f"        '{snake(inner(e))}' => {q}{e.value}{q}," for e in c.entries]
        body += ["        'redirect' => '/login/callback',", "    ],", "];"]
    return "config/services.php", "\n".join(head + body + [""])


def swift(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    head = ["import Foundation", ""]
    if style == "flat":
        body = ["enum Secrets {"]
        body += [f'    static let {camel(e.words)} = "{e.value}"' for e in c.entries]
        body += ["}"]
    else:
        body = [f"struct {pascal([c.group])}Config {{"]
        body += [f'    let {camel(inner(e))} = "{e.value}"' for e in c.entries]
        body += ["}"]
    return "App/Config/Secrets.swift", "\n".join(head + body + [""])


def yaml(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng, "", '"', "'")
    if style == "flat":
        lines = ["services:", "  api:", "    image: acme/api:1.4", "    environment:"]
        lines += [f"      {upper(e.words)}: {q}{e.value}{q}" for e in c.entries]
        return "docker-compose.yml", "\n".join([*lines, ""])
    if style == "flow":
        pairs = ", ".join(f"{snake(inner(e))}: {q}{e.value}{q}" for e in c.entries)
        lines = ["providers:", f"  {c.group}: {{{pairs}}}"]
        return "config/providers.yml", "\n".join([*lines, ""])
    lines = ["server:", "  port: 8080", "oauth:", f"  {c.group}:"]
    lines += [f"    {snake(inner(e))}: {q}{e.value}{q}" for e in c.entries]
    return "config/application.yml", "\n".join([*lines, ""])


def json_(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    document: dict[str, object]
    if style == "flat":
        document = {"name": "api", **{upper(e.words): e.value for e in c.entries}}
        return "config/env.json", json.dumps(document, indent=2) + "\n"
    section = {pascal(inner(e)): e.value for e in c.entries}
    document = {
        "Logging": {"LogLevel": {"Default": "Information"}},
        "Authentication": {pascal([c.group]): section},
    }
    return "appsettings.json", json.dumps(document, indent=2) + "\n"


def env(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng, "", '"', "'")
    prefix = rng.choice(("", "export "))
    lines = ["NODE_ENV=production", "PORT=3000"]
    lines += [f"{prefix}{upper(e.words)}={q}{e.value}{q}" for e in c.entries]
    return ".env", "\n".join([*lines, ""])


def properties(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    sep = rng.choice(("=", " = ", ": "))
    lines = ["server.port=8080", "logging.level.root=INFO"]
    if style == "flat":
        spell = rng.choice((dotted, lambda w: ".".join([w[0], kebab(w[1:])])))
        lines += [f"{spell(e.words)}{sep}{e.value}" for e in c.entries]
    else:
        base = f"spring.security.oauth2.client.registration.{c.group}"
        lines += [f"{base}.{kebab(inner(e))}{sep}{e.value}" for e in c.entries]
    return "src/main/resources/application.properties", "\n".join([*lines, ""])


def xml(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>"]
    if style == "flat":
        lines.append("  <appSettings>")
        lines += [
            f'    <add key="{pascal([c.group])}:{pascal(inner(e))}" value="{e.value}" />'
            for e in c.entries
        ]
        lines.append("  </appSettings>")
    else:
        lines.append(f"  <{c.group}>")
        lines += [f"    <{camel(inner(e))}>{e.value}</{camel(inner(e))}>" for e in c.entries]
        lines.append(f"  </{c.group}>")
    return "Web.config", "\n".join([*lines, "</configuration>", ""])


def android_xml(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<resources>"]
    lines.append('    <string name="app_name">Acme</string>')
    lines += [f'    <string name="{snake(e.words)}">{e.value}</string>' for e in c.entries]
    return "app/src/main/res/values/strings.xml", "\n".join([*lines, "</resources>", ""])


def terraform(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    if style == "flat":
        width = max(len(snake(e.words)) for e in c.entries)
        lines = ['region = "eu-west-1"']
        lines += [f'{snake(e.words).ljust(width)} = "{e.value}"' for e in c.entries]
        return "envs/prod/terraform.tfvars", "\n".join([*lines, ""])
    width = max(len(snake(inner(e))) for e in c.entries)
    lines = [f'resource "oauth_client" "{c.group}" {{', '  name = "api"']
    lines += [f'  {snake(inner(e)).ljust(width)} = "{e.value}"' for e in c.entries]
    return "infra/oauth.tf", "\n".join([*lines, "}", ""])


def shell(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    q = _q(rng, "", '"', "'")
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", ""]
    if style == "flat":
        lines += [f"export {upper(e.words)}={q}{e.value}{q}" for e in c.entries]
        lines += ["", 'exec ./bin/server "$@"']
    else:
        lines.append(f'curl -sS -X POST "{TOKEN_URLS[c.group]}" \\')
        lines += [f'  -d "{snake(inner(e))}={e.value}" \\' for e in c.entries]
        lines.append('  -d "grant_type=client_credentials"')
    return "scripts/deploy.sh", "\n".join([*lines, ""])


def dockerfile(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    verb = rng.choice(("ENV", "ARG"))
    sep = "=" if verb == "ARG" or rng.random() < 0.6 else " "
    lines = ["FROM python:3.12-slim", "WORKDIR /app", "COPY . ."]
    lines += [f"{verb} {upper(e.words)}{sep}{e.value}" for e in c.entries]
    lines += ['CMD ["python", "-m", "app"]']
    return "Dockerfile", "\n".join([*lines, ""])


def notebook(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    if style == "flat":
        source = [f'{upper(e.words)} = "{e.value}"\n' for e in c.entries]
    else:
        source = [f'os.environ["{upper(e.words)}"] = "{e.value}"\n' for e in c.entries]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Exploring the API\n"]},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [],
            "source": ["import os\n", *source, "client = connect()"],
        },
    ]
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return "notebooks/explore.ipynb", json.dumps(document, indent=1) + "\n"


def toml(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    lines = ["[server]", "port = 8080", ""]
    if style == "flat":
        lines += ["[env]"] + [f'{upper(e.words)} = "{e.value}"' for e in c.entries]
    else:
        lines += [f"[oauth.{c.group}]"] + [f'{snake(inner(e))} = "{e.value}"' for e in c.entries]
    return "config/app.toml", "\n".join([*lines, ""])


def ini(style: str, c: CredentialSet, rng: random.Random) -> tuple[str, str]:
    sep = rng.choice((" = ", "=", ": "))
    lines = ["[server]", "port = 8080", "", f"[{c.group}]"]
    lines += [f"{snake(inner(e))}{sep}{e.value}" for e in c.entries]
    return "conf/app.ini", "\n".join([*lines, ""])


def several(fmt: str, sets: Sequence[CredentialSet], rng: random.Random) -> tuple[str, str]:
    """One configuration file holding several providers' credentials, as real ones do."""
    if fmt == "env":
        lines = ["APP_ENV=production"]
        for c in sets:
            lines += ["", f"# {c.group}"] + [f"{upper(e.words)}={e.value}" for e in c.entries]
        return ".env.production", "\n".join([*lines, ""])
    if fmt == "yaml":
        lines = ["oauth:"]
        for c in sets:
            lines.append(f"  {c.group}:")
            lines += [f"    {snake(inner(e))}: {e.value}" for e in c.entries]
        return "config/oauth.yml", "\n".join([*lines, ""])
    if fmt == "json":
        document = {pascal([c.group]): {pascal(inner(e)): e.value for e in c.entries} for c in sets}
        return "appsettings.Production.json", json.dumps({"Authentication": document}, indent=2)
    if fmt == "python":
        lines = ["SOCIAL_AUTH = {"]
        for c in sets:
            lines.append(f'    "{c.group}": {{')
            lines += [f'        "{snake(inner(e))}": "{e.value}",' for e in c.entries]
            lines.append("    },")
        return "project/settings/production.py", "\n".join([*lines, "}", ""])
    lines = []
    for c in sets:
        lines += [f"[oauth.{c.group}]"] + [f'{snake(inner(e))} = "{e.value}"' for e in c.entries]
        lines.append("")
    return "config/oauth.toml", "\n".join(lines)


RENDERERS: dict[str, Renderer] = {
    "python": python,
    "javascript": javascript,
    "typescript": typescript,
    "java": java,
    "kotlin": kotlin,
    "go": go,
    "csharp": csharp,
    "ruby": ruby,
    "php": php,
    "swift": swift,
    "yaml": yaml,
    "json": json_,
    "env": env,
    "properties": properties,
    "xml": xml,
    "android-xml": android_xml,
    "terraform": terraform,
    "shell": shell,
    "dockerfile": dockerfile,
    "notebook": notebook,
    "toml": toml,
    "ini": ini,
}

"""A revocation scenario at the real authorization server (oidc-provider): clients registered
at run time, their secrets leaked into files of a scanned directory, a registry, a verified
report made by ``leakstop scan --verify``, and ``leakstop revoke`` run in-process or as a real
subprocess. Everything sensitive the scenario creates is collected so tests can check that
no output holds any of it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from typer.testing import CliRunner, Result

from scanner.cli import app
from tests.support.oidc import OidcServer, RegisteredClient

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Case:
    root: Path
    server: OidcServer
    clients: dict[str, RegisteredClient] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    sensitive: set[str] = field(default_factory=set)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def registry(self) -> Path:
        return self.root / "registry.toml"

    @property
    def report(self) -> Path:
        return self.root / "report.json"

    @property
    def audit(self) -> Path:
        return self.root / "audit.jsonl"

    def rat_env(self, name: str) -> str:
        return f"RAT_{name.upper()}"

    def add(self, name: str, revoke: str, **registry_fields: Any) -> RegisteredClient:
        """Register a client, leak its secret into repo/NAME.py, add its registry entry."""
        client = self.server.register_secret_client()
        assert client.client_secret
        self.clients[name] = client
        self.repo.mkdir(exist_ok=True)
        (self.repo / f"{name}.py").write_text(
            f'CLIENT_ID = "{client.client_id}"\nCLIENT_SECRET = "{client.client_secret}"\n'
        )
        self.env[self.rat_env(name)] = client.registration_access_token
        self.sensitive |= {client.client_secret, client.registration_access_token}
        self.entries[name] = {
            "client_id": client.client_id,
            "issuer": "corp",
            "owner": f"team-{name}",
            "registration_client_uri": client.registration_client_uri,
            "registration_access_token_env": self.rat_env(name),
            "revoke": revoke,
            **registry_fields,
        }
        return client

    def write(self) -> None:
        """Write the registry and make the verified (redacted) report."""
        lines = ["[[issuer]]", 'name = "corp"', f'issuer = "{self.server.issuer}"', ""]
        for entry in self.entries.values():
            lines.append("[[client]]")
            lines.extend(f'{k} = "{v}"' for k, v in entry.items())
            lines.append("")
        self.registry.write_text("\n".join(lines), "utf-8")
        result = self.leakstop(
            "scan", self.repo, "--no-history", "--verify", "--registry", self.registry,
            "--format", "json", "--output", self.report, "--jobs", "1", "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 1, result.output
        assert self.report.read_text().count('"verdict": "live"') == len(self.clients)

    # -- running -----------------------------------------------------------------------

    def leakstop(self, *args: object, input: str | None = None) -> Result:
        result = CliRunner().invoke(app, [str(a) for a in args], env=self.env, input=input)
        self.outputs.append(result.output)
        return result

    def revoke(self, *args: object, input: str | None = None) -> Result:
        return self.leakstop(
            "revoke", self.report, "--registry", self.registry, "--audit-log", self.audit,
            *args, input=input,
        )  # fmt: skip

    def revoke_process(
        self, *args: str, crash_after: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``leakstop revoke`` as a real process (the crash hook kills it where asked)."""
        env = {**os.environ, **self.env}
        env.pop("LEAKSTOP_TEST_CRASH_AFTER", None)
        if crash_after:
            env["LEAKSTOP_TEST_CRASH_AFTER"] = crash_after
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "revoke", str(self.report),
             "--registry", str(self.registry), "--audit-log", str(self.audit), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        self.outputs += [done.stdout, done.stderr]
        return done

    # -- the server's view ---------------------------------------------------------------

    def token_status(self, name: str, secret: str | None = None) -> tuple[int, str | None]:
        """(status, error) of a client_credentials request with the client's (or a) secret."""
        client = self.clients[name]
        response = self.server.token(client.client_id, secret or client.client_secret)
        error = response.json().get("error") if response.status_code != 200 else None
        return response.status_code, error

    def read_status(self, name: str, token: str | None = None) -> requests.Response:
        client = self.clients[name]
        return self.server.read_client(client, registration_access_token=token)

    def everything_written(self) -> str:
        """All output, the audit log and the report, as one text to search."""
        parts = [*self.outputs]
        for path in (self.audit, self.report):
            if path.exists():
                parts.append(path.read_text())
        return "\n".join(parts)


def env_file(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {k: v.strip("'") for k, v in pairs if not k.startswith("#")}

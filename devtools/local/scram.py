"""The secured local broker's SCRAM users: random passwords, kept in a 0600 file of its own home.

The passwords exist on this machine only; the repository never holds one. Production's come from
Strimzi's user operator or the Compose installation's `.env` (deploy/README.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from backbone.settings import KafkaSettings

ADMIN = "admin"  # the broker's one super user: it creates the topics and the ACLs
MECHANISM = "SCRAM-SHA-512"
ITERATIONS = 4096  # Kafka's minimum for SCRAM-SHA-512


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whatever mode an older copy had."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


@dataclass(frozen=True)
class ScramUsers:
    """Users and their passwords, as stored in `credentials.json`."""

    passwords: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> ScramUsers:
        if not path.exists():
            return cls({})
        stored = json.loads(path.read_text(encoding="utf-8")).get("users", {})
        return cls({str(name): str(password) for name, password in stored.items()})

    def missing(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name not in self.passwords]

    def with_users(self, names: Iterable[str]) -> ScramUsers:
        """These users added, each with a new random password; existing passwords are kept."""
        return ScramUsers({**{name: secrets.token_urlsafe(24) for name in names}, **self.passwords})

    def save(self, path: Path, *, bootstrap_servers: str) -> None:
        document = {
            "bootstrap_servers": bootstrap_servers,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": MECHANISM,
            "users": self.passwords,
        }
        write_private(path, json.dumps(document, indent=2) + "\n")

    def settings(self, name: str, bootstrap_servers: str) -> KafkaSettings:
        """The client settings of user `name`, as a service would set BACKBONE_KAFKA__*."""
        if name not in self.passwords:
            raise KeyError(f"{name} is not a user of the secured broker (known: {len(self.passwords)} users)")
        return KafkaSettings(
            bootstrap_servers=bootstrap_servers,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=MECHANISM,
            sasl_username=name,
            sasl_password=SecretStr(self.passwords[name]),
        )

    def format_arguments(self) -> list[str]:
        """`StorageTool format` options that write every user's SCRAM credential into the metadata log."""
        return [option for name in sorted(self.passwords) for option in ("--add-scram", self._credential(name))]

    def _credential(self, name: str) -> str:
        # The salted form keeps the password itself off the format's command line, which other users of
        # the machine can read in /proc. The salted form shows there for the seconds the format takes and
        # is enough to authenticate to this loopback rehearsal broker, to nothing else.
        salt = secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha512", self.passwords[name].encode(), salt, ITERATIONS)
        return (
            f"{MECHANISM}=[name={name},iterations={ITERATIONS},"
            f'salt="{base64.b64encode(salt).decode()}",saltedpassword="{base64.b64encode(salted).decode()}"]'
        )

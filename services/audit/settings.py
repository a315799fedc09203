"""audit's settings, read from BACKBONE_AUDIT__*."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKBONE_AUDIT__", frozen=True)

    signing_key: SecretStr = Field(description="base64 of the 32-byte Ed25519 private key that signs the chain")
    checkpoint_file: Path = Field(description="Signed checkpoints are appended here (one JSON per line) for auditors")
    checkpoint_seconds: float = Field(default=10.0, gt=0)
    workbench_url: str = Field(
        default="http://127.0.0.1:8106", description="The workbench, whose auditors' pages the front page links to"
    )

    def key(self) -> bytes:
        return base64.b64decode(self.signing_key.get_secret_value())

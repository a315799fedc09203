"""intake's keys, read from BACKBONE_INTAKE__* (base64 of 32 random bytes each; `backbone up` generates
local ones). In production they come from the city's secret store and are never the local ones."""

from __future__ import annotations

import base64

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backbone.settings import thirty_two_byte_key


class IntakeKeys(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKBONE_INTAKE__", frozen=True)

    master_key: SecretStr = Field(description="Wraps every person's data key (crypto-shredding)")
    subject_key: SecretStr = Field(description="Keys the subject reference (keyed hash of identity)")
    sealing_key: SecretStr = Field(description="X25519 private key that opens sealed ingress submissions")

    @field_validator("master_key", "subject_key", "sealing_key")
    @classmethod
    def _thirty_two_bytes(cls, value: SecretStr) -> SecretStr:
        return thirty_two_byte_key(value)

    def raw(self, name: str) -> bytes:
        secret: SecretStr = getattr(self, name)
        return base64.b64decode(secret.get_secret_value())


class Limits(BaseModel):
    """Documented limits of intake's HTTP API."""

    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = 64 * 1024

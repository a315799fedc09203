"""The workbench's settings, read from the environment like a service's (prefix BACKBONE_, `__` between names).

The workbench is a client of the other services: it needs their addresses, the identity provider it signs
staff in with, the client id the provider knows it by, and the address staff reach it at (for the redirect
URI and for the cookie's Secure flag). Its database holds the staff's sessions only, their tokens sealed
with the session key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backbone.logs import LogSettings
from backbone.settings import DatabaseSettings, HttpSettings, TelemetrySettings, thirty_two_byte_key
from backbone.staff import IdentitySettings


class WorkbenchOptions(BaseModel):
    """BACKBONE_WORKBENCH__*: how the workbench is reached and what it calls."""

    model_config = ConfigDict(frozen=True)

    client_id: str = Field(default="workbench", description="The workbench's client id at the identity provider")
    scopes: str = Field(
        default="openid",
        pattern=r"^openid( [\x21\x23-\x5b\x5d-\x7e]+)*$",
        description="The scopes asked for at sign-in, space-separated, openid first. A provider that issues an "
        "access token for the backbone only when its own scope is asked for (Entra ID: 'openid "
        "api://backbone/access') needs it here; Keycloak's realm maps the audience without one",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8106",
        description="Where staff reach the workbench; the redirect URI is <public_url>/auth/callback. With https "
        "the session cookie is Secure",
    )
    intake_url: str = Field(default="http://127.0.0.1:8101", description="intake's API")
    referral_url: str = Field(default="http://127.0.0.1:8102", description="referral's API")
    meetings_url: str = Field(default="http://127.0.0.1:8103", description="meetings' API")
    notify_url: str = Field(default="http://127.0.0.1:8104", description="notify's API")
    audit_url: str = Field(
        default="http://127.0.0.1:8105", description="audit's API (the auditors' pages, and a case's history)"
    )
    session_hours: float = Field(default=10.0, gt=0, le=24, description="A session ends this long after sign-in")
    inbox_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="How often an open inbox asks again")
    session_key: SecretStr | None = Field(
        default=None,
        description="base64 of 32 random bytes: seals the provider's tokens in the session table (AES-GCM). "
        "Required in production; locally `backbone up` keeps one in the secrets file. Changing it ends every session",
    )

    @field_validator("session_key")
    @classmethod
    def _thirty_two_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else thirty_two_byte_key(value)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def origin(self) -> str:
        """The scheme, host and port of public_url, as browsers send it in Origin."""
        scheme, rest = self.public_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url.rstrip('/')}/auth/callback"


class WorkbenchSettings(BaseSettings):
    """Everything the workbench process needs."""

    model_config = SettingsConfigDict(env_prefix="BACKBONE_", env_nested_delimiter="__", frozen=True)

    environment: Literal["local", "production"] = "local"
    database: DatabaseSettings
    identity: IdentitySettings = Field(description="The OpenID Connect provider staff sign in with")
    workbench: WorkbenchOptions = WorkbenchOptions()
    http: HttpSettings = HttpSettings(port=8106)
    telemetry: TelemetrySettings = TelemetrySettings()
    log: LogSettings = LogSettings()

    @model_validator(mode="after")
    def _production_keeps_its_session_key(self) -> WorkbenchSettings:
        # Without a key of its own the process would seal with one that dies with it: every restart or second
        # replica would sign every staff member out.
        if self.environment == "production" and self.workbench.session_key is None:
            raise ValueError(
                "environment=production needs BACKBONE_WORKBENCH__SESSION_KEY (base64 of 32 random bytes, from a "
                "Secret): it seals the staff's tokens in the session table"
            )
        return self

"""notify's settings, read from BACKBONE_NOTIFY__*."""

from __future__ import annotations

from datetime import time

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKBONE_NOTIFY__", frozen=True)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "backbone@fujisawa-backbone.invalid"
    public_base_url: str = Field(default="http://127.0.0.1:8104", description="Where acknowledgement links point")
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_sessions: int = Field(
        default=8,
        ge=1,
        le=50,
        description="SMTP sessions kept open to the mail server at most; a message waiting for a free one counts"
        " towards its send timeout, so a hung server holds the dispatcher no longer than the timeout",
    )
    max_attempts: int = Field(default=6, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open a breaker (the mail server's, a webhook URL's)"
    )
    breaker_open_seconds: float = Field(
        default=3.0,
        gt=0,
        description="How long an open breaker lets nothing through; then one probe at a time until one succeeds, so a"
        " server that comes back is found within this, and one that stays down gets one try per this",
    )
    give_up_minutes: float = Field(
        default=10.0,
        gt=0,
        description="A delivery still unsent this long after it was due gets a last try, even past an open breaker,"
        " and fails visibly (NotificationFailed) if that fails too: a person learns of a dead endpoint within this",
    )
    ack_urgent_minutes: float = Field(default=15.0, gt=0, description="Unacknowledged urgent: escalate after")
    ack_normal_minutes: float = Field(default=240.0, gt=0)
    quiet_start: time = Field(
        default=time(20, 0),
        description="Normal notifications wait until quiet hours end (Tokyo time; equal start and end: no quiet hours)",
    )
    quiet_end: time = time(8, 0)
    poll_seconds: float = Field(default=0.5, gt=0)

"""Typed settings, built once per process and passed down; tests construct them directly.

Read from the environment with the prefix BACKBONE_ and `__` between nested names, e.g.
BACKBONE_DATABASE__DSN or BACKBONE_KAFKA__BOOTSTRAP_SERVERS.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backbone.logs import LogSettings
from backbone.staff import IdentitySettings

ServiceName = Literal["intake", "referral", "meetings", "notify", "audit"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaSettings(BaseModel):
    """The brokers and how a client authenticates to them (`backbone.kafka.client_options` applies it).

    PLAINTEXT is for the local single-node broker only; production listeners are SASL_SSL with a
    SCRAM principal per service (deploy/README.md).
    """

    model_config = ConfigDict(frozen=True)

    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="host:port[,host:port…]")
    consumer_batch: int = Field(default=200, ge=1, le=10_000, description="Records per consumed batch")
    # The relay hands the producer a whole batch before it waits for the acknowledgements, so a batch's records
    # leave together without a linger. A linger would gather the records of the relay's successive cycles into
    # fewer produce requests, and hold each back by up to as long: at the rates an installation sees there is
    # nothing to gather, and 5 ms cost each of a consultation's two Kafka hops 5–6 ms (docs/capacity.md,
    # "相談の経路 / L1 hop by hop"). One near its capacity may measure a few ms.
    linger_ms: int = Field(
        default=0, ge=0, le=1_000, description="How long the producer waits to fill a request before sending it"
    )
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = Field(default="SCRAM-SHA-512", description="Used with the SASL_* protocols")
    sasl_username: str | None = Field(default=None, description="The Kafka principal, e.g. svc-referral")
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA of the brokers' certificates (default: the system's)")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate, for an mTLS listener only")
    ssl_keyfile: Path | None = Field(default=None, description="Client certificate's key, for an mTLS listener only")

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one: FastStream passes a single string on as one host."""
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    dsn: SecretStr = Field(description="postgresql://user:password@host:port/database of this service")
    pool_min: int = Field(default=1, ge=0)
    pool_max: int = Field(default=8, ge=1)


class DeliverySettings(BaseModel):
    """How hard a consumer tries before it dead-letters a record, and how the relay batches."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=4, ge=1, le=50)
    retry_base_seconds: float = Field(default=0.2, gt=0)
    # The longest wait between two tries of an unreachable database or broker. Short, so that everything moves
    # again within seconds of the dependency's return; the load it puts on one still down stays small (one
    # try per loop and consumer every few seconds).
    retry_max_seconds: float = Field(default=3.0, gt=0)
    relay_batch: int = Field(default=500, ge=1, le=50_000)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    # While Kafka does not acknowledge a batch (brokers unreachable, fewer in-sync replicas than
    # min.insync.replicas), the relay keeps waiting, since sending again would only pile up copies, and
    # says so in the log at this interval.
    relay_stall_warning_seconds: float = Field(default=30.0, gt=0)
    # How long a consumer's poll waits for records; they are taken as soon as they arrive
    # (backbone.kafka.PromptBatchSubscriber), so this only says how often an idle consumer wakes: twice a second,
    # as often as aiokafka's fetches return empty (fetch_max_wait_ms).
    poll_timeout_ms: int = Field(default=500, ge=1, le=5_000)


class TelemetrySettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    otlp_endpoint: str | None = Field(default=None, description="OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318")
    console: bool = Field(default=False, description="Print finished spans to stderr")
    metrics_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often the gauges read from the database and Kafka are refreshed"
    )


class HttpSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # ASSUMPTION: the busiest agency system needs far less than this (the whole city's design rate is under
    # one consultation a second); the limit is there for runaway clients, not to shape normal traffic.
    agency_rate: float = Field(default=300.0, gt=0, description="Requests a second each agency may make (average)")
    agency_burst: int = Field(default=600, ge=1, description="Requests an agency may make at once")
    # An idle kept-alive connection must be closed by the client, not the server: when both give up after the same
    # time (uvicorn's default and httpx's are both 5 s), a client can send its next request on a connection the
    # server is closing, and meets a transport error for a request that never arrived. A server that waits longer
    # than any client's or load balancer's idle timeout (60 s is the common one) closes no connection under a
    # request.
    keep_alive_seconds: int = Field(
        default=75, ge=1, le=3600, description="Seconds an idle kept-alive connection stays open (longer than clients')"
    )


class ServiceSettings(BaseSettings):
    """Everything one service process needs to run."""

    model_config = SettingsConfigDict(env_prefix="BACKBONE_", env_nested_delimiter="__", frozen=True)

    service: ServiceName
    environment: Literal["local", "production"] = "local"
    database: DatabaseSettings
    kafka: KafkaSettings = KafkaSettings()
    delivery: DeliverySettings = DeliverySettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()
    identity: IdentitySettings | None = Field(
        default=None, description="The OIDC provider whose staff access tokens are accepted; none: agency tokens only"
    )
    credentials_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; encrypts agencies' secrets (services that agencies call)"
    )

    @model_validator(mode="after")
    def _production_is_not_loopback(self) -> ServiceSettings:
        if self.environment == "production" and "127.0.0.1" in self.kafka.bootstrap_servers:
            raise ValueError(
                "environment=production but BACKBONE_KAFKA__BOOTSTRAP_SERVERS points at 127.0.0.1; "
                "set it to the production cluster's brokers"
            )
        return self


def thirty_two_byte_key(value: SecretStr) -> SecretStr:
    """A key setting's check: base64 of exactly 32 bytes (AES-256, X25519, Ed25519), or a message that says how
    to make one."""
    try:
        raw = base64.b64decode(value.get_secret_value(), validate=True)
    except binascii.Error as error:
        raise ValueError("must be base64 (make one with `openssl rand -base64 32`)") from error
    if len(raw) != 32:
        raise ValueError("must be base64 of exactly 32 bytes (make one with `openssl rand -base64 32`)")
    return value

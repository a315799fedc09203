"""Where an operator command finds a service's settings: the container it runs in, or the local stack.

Inside a service's container (Compose, Kubernetes, or a one-off pod made from it) `BACKBONE_SERVICE` is
set and the `BACKBONE_*` environment is that service's own: its database, its Kafka principal, its keys.
A command there acts on that service only; Kafka's ACLs and the database's roles would refuse the rest
anyway, and a clear refusal up front beats an authorisation error halfway. Anywhere else the commands act
on the local stack of `backbone up`, whose Kafka and PostgreSQL they start when they are not running.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, get_args

from fastapi import FastAPI
from pydantic import ValidationError

from backbone.settings import ServiceName, ServiceSettings
from console.errors import OperatorError
from services.audit.settings import AuditSettings
from services.intake.keys import IntakeKeys

if TYPE_CHECKING:  # the local stack is a development tool: imported only where there is one (not in the image)
    from devtools.local.stack import LocalStack

SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)
Report = Callable[[str], None]

__all__ = ["SERVICES", "ContainerSource", "LocalSource", "OperatorError", "SettingsSource", "choose", "migrations_of"]


class SettingsSource(Protocol):
    """Settings and wiring of the services an operator command may act on from here."""

    def prepare(self, report: Report) -> None:
        """Make sure what the command needs is running (the local stack); `report` says what was done."""

    def settings_for(self, service: ServiceName) -> ServiceSettings:
        """The service's settings; OperatorError if this place may not act on it."""

    def agency_facing(self) -> tuple[ServiceName, ...]:
        """The services an agency token is registered in from here."""

    def audit_settings(self) -> AuditSettings:
        """audit's signing key and checkpoint file."""

    def app(self, service: ServiceName) -> FastAPI:
        """The service's app, wired as when it serves (handlers, keys) but not started."""


@dataclass(frozen=True)
class ContainerSource:
    """Inside the container of `service`: its own `BACKBONE_*` environment, and that service only."""

    service: ServiceName

    def prepare(self, report: Report) -> None:
        return None  # the service's database and Kafka are the installation's; nothing to start here

    def settings_for(self, service: ServiceName) -> ServiceSettings:
        self._require(service)
        try:
            return ServiceSettings()  # every value from BACKBONE_*
        except ValidationError as error:
            raise OperatorError(f"{self.service}'s BACKBONE_* settings are incomplete here:\n{error}") from error

    def agency_facing(self) -> tuple[ServiceName, ...]:
        return (self.service,)

    def audit_settings(self) -> AuditSettings:
        self._require("audit")
        try:
            return AuditSettings()  # from BACKBONE_AUDIT__*
        except ValidationError as error:
            raise OperatorError(f"audit's BACKBONE_AUDIT__* settings are incomplete here:\n{error}") from error

    def app(self, service: ServiceName) -> FastAPI:
        # build_app reads the service's own extra settings (keys, SMTP, …) from the environment, as `serve` does.
        return _build_app(self.settings_for(service), {})

    def _require(self, service: ServiceName) -> None:
        if service != self.service:
            raise OperatorError(
                f"this is {self.service}'s container (BACKBONE_SERVICE={self.service}); acting on {service} needs "
                f"{service}'s own database and Kafka principal. Run the command in {service}'s container: "
                f"`docker compose -f deploy/compose/compose.yaml exec {service} backbone …` or "
                f"`kubectl -n fujisawa-backbone exec deploy/{service} -- backbone …`",
                exit_code=2,
            )


@dataclass(frozen=True)
class LocalSource:
    """The local stack of `backbone up`: every service, with the settings and keys it generated."""

    stack: LocalStack

    def prepare(self, report: Report) -> None:
        self.stack.up_infrastructure(report)  # idempotent: starts only what is not running

    def settings_for(self, service: ServiceName) -> ServiceSettings:
        return self.stack.settings_for(service)

    def agency_facing(self) -> tuple[ServiceName, ...]:
        from devtools.local.stack import AGENCY_FACING  # noqa: PLC0415

        return AGENCY_FACING

    def audit_settings(self) -> AuditSettings:
        return AuditSettings.model_validate(self.stack.audit_settings())

    def app(self, service: ServiceName) -> FastAPI:
        extra: dict[str, Any] = {}
        if service == "intake":
            extra["keys"] = IntakeKeys.model_validate(self.stack.intake_keys())
        if service == "audit":
            extra["audit"] = self.audit_settings()
        return _build_app(self.settings_for(service), extra)


def choose(environment: Mapping[str, str], local: Callable[[], LocalStack] | None = None) -> SettingsSource:
    """The container's own settings when `BACKBONE_SERVICE` is set, the local stack otherwise."""
    name = environment.get("BACKBONE_SERVICE", "").strip()
    if not name:
        if local is None:
            try:
                from devtools.local.stack import LocalStack  # noqa: PLC0415
            except ImportError:
                raise OperatorError(
                    "BACKBONE_SERVICE is not set, and this installation has no local stack to act on: run the command"
                    " in a service's container, where BACKBONE_SERVICE and its BACKBONE_* settings are set",
                    exit_code=2,
                ) from None
            local = LocalStack.default
        return LocalSource(local())
    for service in SERVICES:
        if service == name:
            return ContainerSource(service)
    raise OperatorError(
        f"BACKBONE_SERVICE={name!r} is not a service of the backbone; it is one of {', '.join(SERVICES)}"
    )


def migrations_of(service: ServiceName) -> Path:
    """The service's own migrations, wherever the package is installed (a checkout or the image)."""
    module = importlib.import_module(f"services.{service}")
    return Path(str(module.__file__)).parent / "migrations"


def _build_app(settings: ServiceSettings, extra: dict[str, Any]) -> FastAPI:
    app: FastAPI = importlib.import_module(f"services.{settings.service}.app").build_app(settings, **extra)
    return app

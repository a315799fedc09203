"""`backbone trace` and `backbone ledger verify` on the local stack (the walkthrough and the simulated day)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from console import auditing
from console.auditing import as_json
from devtools.local.stack import LocalStack
from services.audit import ledger
from services.audit.settings import AuditSettings

__all__ = ["as_json", "trace", "verify"]


def _config(stack: LocalStack) -> AuditSettings:
    return AuditSettings.model_validate(stack.audit_settings())


def trace(stack: LocalStack, key: str, *, language: str) -> tuple[str, list[dict[str, Any]]]:
    return asyncio.run(auditing.trace(stack.settings_for("audit").database, _config(stack), key, language=language))


def verify(stack: LocalStack) -> tuple[int, list[ledger.Finding], Path]:
    return asyncio.run(auditing.verify(stack.settings_for("audit").database, _config(stack)))

"""What intake tells an agency about the submission contract it wrote to: the contract and its version on every
answer to a submission (`Backbone-Contract`), and, once a field is announced for removal (schemas/changelog.toml),
that the submission used it: `Deprecation` (RFC 9745) from when it was announced, `Sunset` (RFC 8594) when it goes,
and which fields (`Backbone-Deprecated-Fields`). An agency's system can log these and be changed in time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from pathlib import Path

from pydantic import BaseModel

from schemas.changelog import CHANGELOG, deprecations_of, version_of

SUBMISSION_CONTRACT = "intake.api.consultation-submission.v1"


def announcements(
    submission: BaseModel, *, contract: str = SUBMISSION_CONTRACT, changelog: Path = CHANGELOG
) -> dict[str, str]:
    """The headers of intake's answer to `submission`."""
    headers = {"Backbone-Contract": f"{contract}; version={version_of(contract, changelog)}"}
    used = [d for d in deprecations_of(contract, changelog) if d.field in submission.model_fields_set]
    if used:
        headers["Deprecation"] = f"@{int(_midnight(min(d.announced for d in used)).timestamp())}"
        headers["Sunset"] = format_datetime(_midnight(min(d.sunset for d in used)), usegmt=True)
        headers["Backbone-Deprecated-Fields"] = ", ".join(sorted(d.field for d in used))
    return headers


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)

"""JSON Schema for every contract, generated from the models and committed under schemas/jsonschema/: every event
type, and what agencies write to the backbone (a consultation to intake's API and its ingress topic, an action on a
referral to referral's). Each carries its version and changelog (schemas/changelog.py).

Run `backbone schemas` after changing a model; a test fails while the committed files are stale.
`backbone compatibility` compares them with the released ones (schemas/released/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import schemas
from schemas.changelog import changes_of, version_of
from schemas.events import EVENT_TYPES, REFERRAL_ACTION_TYPE, SUBMISSION_TYPE, TYPE_PREFIX
from schemas.submission import ConsultationSubmission, SealedSubmission
from services.referral.ingress import ActionRequest

SCHEMA_DIR = Path(schemas.__file__).resolve().parent / "jsonschema"


# What agencies write, by contract name: the record value of each ingress topic (named by its `ce_type`), and the
# HTTP body of a consultation. An agency's writer must keep to these; the backbone reads them.
SUBMISSIONS: dict[str, type[BaseModel]] = {
    SUBMISSION_TYPE.removeprefix(TYPE_PREFIX): SealedSubmission,
    "intake.api.consultation-submission.v1": ConsultationSubmission,
    REFERRAL_ACTION_TYPE.removeprefix(TYPE_PREFIX): ActionRequest,
}


def render() -> dict[str, str]:
    """File name -> JSON text, for every contract."""
    files: dict[str, str] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        contract = event_type.removeprefix(TYPE_PREFIX)
        extensions = {"x-cloudevents-type": event_type, "x-kafka-topic": model.TOPIC.name}
        files[f"{contract}.json"] = _schema(contract, model, model.dataschema(), extensions)
    for contract, written in sorted(SUBMISSIONS.items()):
        files[f"{contract}.json"] = _schema(contract, written, f"urn:jp:fujisawa:welfare:schema:{contract}", {})
    return files


def _schema(contract: str, model: type[BaseModel], schema_id: str, extensions: dict[str, str]) -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        **extensions,
        "x-contract-version": version_of(contract),
        "x-changelog": [
            {"version": change.version, "date": change.on.isoformat(), "summary": change.summary}
            for change in changes_of(contract)
        ],
        **model.model_json_schema(mode="serialization"),
    }
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def stale() -> list[str]:
    """Paths of schema files that are missing, out of date or no longer generated."""
    wanted = render()
    present = {path.name for path in SCHEMA_DIR.glob("*.json")}
    outdated = [name for name, text in wanted.items() if not _matches(SCHEMA_DIR / name, text)]
    return [f"schemas/jsonschema/{name}" for name in sorted(outdated + sorted(present - wanted.keys()))]


def write() -> list[str]:
    """Regenerate the committed schemas; returns the names written or removed."""
    changed = stale()
    SCHEMA_DIR.mkdir(exist_ok=True)
    wanted = render()
    for name in (path.removeprefix("schemas/jsonschema/") for path in changed):
        path = SCHEMA_DIR / name
        if name in wanted:
            path.write_text(wanted[name], encoding="utf-8")
        else:
            path.unlink()
    return changed


def _matches(path: Path, text: str) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == text

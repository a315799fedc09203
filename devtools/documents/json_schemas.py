"""JSON Schema for every event, generated from the models and committed under schemas/jsonschema/.

Run `backbone schemas` after changing a model; a test fails while the committed files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemas
from schemas.events import EVENT_TYPES, TYPE_PREFIX

SCHEMA_DIR = Path(schemas.__file__).resolve().parent / "jsonschema"


def render() -> dict[str, str]:
    """File name -> JSON text, for every event type."""
    files: dict[str, str] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": model.dataschema(),
            "x-cloudevents-type": event_type,
            "x-kafka-topic": model.TOPIC.name,
            **model.model_json_schema(mode="serialization"),
        }
        name = event_type.removeprefix(TYPE_PREFIX) + ".json"
        files[name] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return files


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

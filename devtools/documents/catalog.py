"""Documents for integrators, generated from the code and checked in CI: the OpenAPI of every service
(docs/openapi/<service>.json) and the event catalog (docs/events.md): each event's owner, consumers,
fields, and an example record with its headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from devtools.documents.asyncapi import SERVICES, placeholder_app
from schemas.changelog import contract_history
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES, TYPE_PREFIX, Event

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE_ID = UUID("00000000-0000-4000-8000-000000000001")
EXAMPLE_TIME = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)


def openapi_documents() -> dict[Path, str]:
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415

    documents = {}
    for service in (*SERVICES, "audit"):
        app = placeholder_app(service)
        spec = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
        )
        documents[DOCS / "openapi" / f"{service}.json"] = (
            json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )
    return documents


def catalog() -> str:
    consumers: dict[type[Event], list[str]] = {model: [] for model in EVENT_TYPES.values()}
    for service in (*SERVICES,):
        for models in placeholder_app(service).state.runtime.consumed.values():
            for model in models:
                if model in consumers:
                    consumers[model].append(service)
    lines = [
        "# Event catalog",
        "",
        "Generated from `schemas/` by `backbone docs`; CI checks it is current.",
        "Every record is a CloudEvents 1.0 event in Kafka binary mode (see the README).",
        "",
    ]
    for event_type, model in sorted(EVENT_TYPES.items()):
        example = _example(model.model_json_schema(), model.model_json_schema())
        event = model.model_validate(example)
        headers = Envelope(
            id=EXAMPLE_ID,
            source=f"/fujisawa/backbone/{model.TOPIC.name.split('.')[0]}",
            type=event_type,
            time=EXAMPLE_TIME,
            subject=event.subject(),
            dataschema=model.dataschema(),
            correlationid=event.record_key(),
        ).to_headers()
        lines += [
            f"## {model.__name__}",
            "",
            (model.__doc__ or "").strip(),
            "",
            f"- type: `{event_type}`",
            f"- topic: `{model.TOPIC.name}` (owner: {model.TOPIC.name.split('.')[0]})",
            f"- consumed by: {', '.join(sorted(set(consumers[model]))) or '(audit only)'} and audit",
            f"- JSON Schema: `schemas/jsonschema/{event_type.removeprefix(TYPE_PREFIX)}.json`",
            f"- contract version: {contract_history(event_type.removeprefix(TYPE_PREFIX))}",
            "",
            "| field | type | required | description |",
            "|---|---|---|---|",
        ]
        schema = model.model_json_schema()
        for name, field in schema.get("properties", {}).items():
            kind = (
                field.get("type")
                or field.get("$ref", "").rsplit("/", 1)[-1]
                or "any of: "
                + ", ".join(str(o.get("type", o.get("$ref", "").rsplit("/", 1)[-1])) for o in field.get("anyOf", []))
            )
            required = "yes" if name in schema.get("required", []) else ""
            lines.append(f"| `{name}` | {kind} | {required} | {(field.get('description') or '').replace('|', '/')} |")
        lines += ["", "Example record:", "", "```", f"key: {event.record_key()}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "",
            event.model_dump_json(indent=2),
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def _example(schema: dict[str, Any], root: dict[str, Any]) -> Any:  # noqa: PLR0911 - one return per JSON type
    if "$ref" in schema:
        return _example(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if "anyOf" in schema:
        return _example(next(o for o in schema["anyOf"] if o.get("type") != "null"), root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _example(field, root)
            for name, field in schema.get("properties", {}).items()
            if name in schema.get("required", []) or "default" not in field
        }
    if kind == "array":
        item = schema.get("items") or (schema.get("prefixItems") or [{"type": "string"}])[0]
        return [_example(item, root)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(EXAMPLE_ID)
    if fmt == "date-time":
        return EXAMPLE_TIME.isoformat()
    if fmt == "date":
        return "2026-07-01"
    return "example"


def stale() -> list[str]:
    wanted = {**openapi_documents(), DOCS / "events.md": catalog()}
    return [
        str(path.relative_to(DOCS.parent))
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write() -> list[str]:
    written = []
    for path, text in {**openapi_documents(), DOCS / "events.md": catalog()}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(str(path.relative_to(DOCS.parent)))
    return written

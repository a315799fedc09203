from __future__ import annotations

import re

import pytest

from backbone.settings import DatabaseSettings, ServiceSettings
from devtools.documents import asyncapi, json_schemas
from schemas.events import EVENT_TYPES, TYPE_PREFIX


def test_committed_json_schemas_match_the_models() -> None:
    assert json_schemas.stale() == [], "run `backbone schemas` and commit schemas/jsonschema/"


IRREGULAR_PAST = {
    "withdrawn",
    "held",
    "sent",
    "overdue",
    "contact-made",
}  # "overdue": a state reached, as the event list names it


def test_event_types_are_versioned_and_in_the_past_tense() -> None:
    for event_type, model in EVENT_TYPES.items():
        assert event_type.startswith(TYPE_PREFIX) and re.search(r"\.v[1-9][0-9]*$", event_type), event_type
        verb = event_type.rsplit(".", 2)[-2]  # the name before the version
        assert verb.endswith("ed") or verb in IRREGULAR_PAST, f"{model.__name__}: {verb} is not past tense"


def test_production_settings_refuse_a_loopback_broker() -> None:
    with pytest.raises(ValueError, match="BOOTSTRAP_SERVERS"):
        ServiceSettings(
            service="intake", environment="production", database=DatabaseSettings(dsn="postgresql://x@db/intake")
        )


def test_the_committed_asyncapi_document_matches_the_code() -> None:
    assert asyncapi.stale() == [], "run `backbone asyncapi` and commit docs/asyncapi.json"


def test_the_committed_openapi_documents_and_event_catalog_match_the_code() -> None:
    from devtools.documents import catalog  # noqa: PLC0415 - builds every service's app

    assert catalog.stale() == [], "run `backbone docs` and commit docs/"

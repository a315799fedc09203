"""The compatibility check against released contracts, run with the real checker (Apicurio Registry's, fetched from
Maven Central by tools/schema-compat/run): a deliberately breaking change fails it, an optional field added and
recorded passes. Each case copies a released contract into a folder of its own and changes the copy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.documents import compatibility
from devtools.documents.json_schemas import SCHEMA_DIR

DECLINED = "referral.referral.declined.v1"  # a reason enum in $defs, an optional note code, required ids
SUBMITTED = "intake.consultation.submitted.v1"  # what agencies write to the ingress topic

Change = Callable[[dict[str, Any]], None]


def problems_after(tmp_path: Path, contract: str, change: Change) -> list[str]:
    released, current = tmp_path / "released", tmp_path / "current"
    released.mkdir(parents=True)
    current.mkdir()
    schema = json.loads((SCHEMA_DIR / f"{contract}.json").read_text(encoding="utf-8"))
    (released / f"{contract}.json").write_text(json.dumps(schema), encoding="utf-8")
    changed = copy.deepcopy(schema)
    change(changed)
    (current / f"{contract}.json").write_text(json.dumps(changed), encoding="utf-8")
    problems, compared = compatibility.check(released, current)
    assert compared == 1
    return [f"{p.rule}: {p.detail}" for p in problems]


def recorded(schema: dict[str, Any]) -> None:
    """As `backbone schemas` writes it once the change has its entry in the changelog: the next MINOR version."""
    major, minor = schema["x-contract-version"].split(".")
    schema["x-contract-version"] = f"{major}.{int(minor) + 1}"


def optional_field(schema: dict[str, Any]) -> None:
    schema["properties"]["declined_by_role"] = {"type": "string", "maxLength": 40, "description": "Who declined"}


def reasons(schema: dict[str, Any]) -> list[str]:
    values: list[str] = schema["$defs"]["DeclineReason"]["enum"]
    return values


def test_an_unchanged_contract_passes(tmp_path: Path) -> None:
    assert problems_after(tmp_path, DECLINED, lambda schema: None) == []


def test_an_optional_field_added_and_recorded_passes_both_ways(tmp_path: Path) -> None:
    assert problems_after(tmp_path, DECLINED, lambda s: (optional_field(s), recorded(s))) == []


def test_a_change_not_recorded_in_the_changelog_fails(tmp_path: Path) -> None:
    (problem,) = problems_after(tmp_path, DECLINED, optional_field)
    assert problem.startswith("not recorded: ") and "schemas/changelog.toml" in problem


def test_a_field_removed_fails_today_reading_what_the_release_wrote(tmp_path: Path) -> None:
    def removed(schema: dict[str, Any]) -> None:
        recorded(schema)
        del schema["properties"]["by_staff"]  # optional: a record of the release may carry it

    (problem,) = problems_after(tmp_path, DECLINED, removed)
    assert problem.startswith("backward: not compatible") and "PROPERTY_SCHEMAS_NARROWED" in problem


def test_a_field_renamed_fails(tmp_path: Path) -> None:
    def renamed(schema: dict[str, Any]) -> None:
        recorded(schema)
        schema["properties"]["declined_agency"] = schema["properties"].pop("agency")
        schema["required"] = [("declined_agency" if name == "agency" else name) for name in schema["required"]]

    problems = problems_after(tmp_path, DECLINED, renamed)
    assert any(p.startswith("backward: not compatible") for p in problems)
    assert any(p.startswith("forward: not compatible") for p in problems)


def test_an_optional_field_made_required_fails(tmp_path: Path) -> None:
    def required(schema: dict[str, Any]) -> None:
        recorded(schema)
        optional = sorted(set(schema["properties"]) - set(schema["required"]))
        schema["required"] = [*schema["required"], optional[0]]

    (problem,) = problems_after(tmp_path, DECLINED, required)
    assert "REQUIRED_PROPERTIES_MEMBER_ADDED" in problem


def test_an_enum_narrowed_fails_backward_and_widened_fails_forward(tmp_path: Path) -> None:
    def narrowed(schema: dict[str, Any]) -> None:
        recorded(schema)
        reasons(schema).pop()

    def widened(schema: dict[str, Any]) -> None:
        recorded(schema)
        reasons(schema).append("moon-phase")

    (problem,) = problems_after(tmp_path / "narrowed", DECLINED, narrowed)
    assert problem.startswith("backward: not compatible")
    (problem,) = problems_after(tmp_path / "widened", DECLINED, widened)
    assert problem.startswith("forward: not compatible (the release's reader reads what is written now)")


def test_a_type_narrowed_fails(tmp_path: Path) -> None:
    def shorter(schema: dict[str, Any]) -> None:
        recorded(schema)
        schema["properties"]["agency"] = {**schema["properties"]["agency"], "maxLength": 3}

    (problem,) = problems_after(tmp_path, DECLINED, shorter)
    assert problem.startswith("backward: not compatible") and "MAX_LENGTH" in problem


def test_a_meaning_the_catalog_states_may_not_change(tmp_path: Path) -> None:
    def reworded(schema: dict[str, Any]) -> None:
        recorded(schema)
        schema["description"] = "Something else entirely."

    (problem,) = problems_after(tmp_path, DECLINED, reworded)
    assert problem.startswith("meaning: / description was ") and "a new type (.v2)" in problem


def test_a_released_contract_may_not_disappear(tmp_path: Path) -> None:
    released, current = tmp_path / "released", tmp_path / "current"
    released.mkdir()
    current.mkdir()
    (released / f"{DECLINED}.json").write_text((SCHEMA_DIR / f"{DECLINED}.json").read_text(encoding="utf-8"))
    problems, _ = compatibility.check(released, current)
    assert [p.rule for p in problems] == ["removed"]


@pytest.mark.parametrize("contract", [SUBMITTED])
def test_a_submission_gains_an_optional_field_as_agencies_may_send_it_later(tmp_path: Path, contract: str) -> None:
    def widened(schema: dict[str, Any]) -> None:
        recorded(schema)
        schema["properties"]["preferred_language"] = {"type": "string", "maxLength": 35}

    assert problems_after(tmp_path, contract, widened) == []


def test_the_committed_schemas_are_compatible_with_their_release() -> None:
    problems, compared = compatibility.check()
    assert problems == []
    assert compared == len(list(SCHEMA_DIR.glob("*.json")))

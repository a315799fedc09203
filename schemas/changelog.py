"""Each contract's version and what changed in it, kept in schemas/changelog.toml and shown to agencies in the JSON
Schemas, the event catalog and the AsyncAPI document.

A contract is an event type or a submission contract that agencies write. Its version is MAJOR.MINOR: MAJOR is the
type's own `.vN` (a breaking change is a new type, `.v2`, published beside the old one for a deprecation window);
MINOR counts the compatible changes recorded here since its first release (x.0). `backbone compatibility` refuses a
contract whose schema changed since its release (schemas/released/) without a change recorded here, and one whose
change is not backward- and forward-compatible.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypedDict

CHANGELOG = Path(__file__).resolve().parent / "changelog.toml"


@dataclass(frozen=True)
class Change:
    version: str
    on: date
    summary: str


def major_of(contract: str) -> int:
    """The MAJOR version a contract's name carries (`….v2` → 2)."""
    found = re.search(r"\.v(\d+)$", contract)
    if found is None:
        raise ValueError(f"{contract!r} does not end in .v<MAJOR>")
    return int(found.group(1))


def changes_of(contract: str, changelog: Path = CHANGELOG) -> list[Change]:
    """The contract's recorded changes, oldest first, each with the version it made."""
    recorded = [entry for entry in _entries(changelog) if entry["contract"] == contract]
    major = major_of(contract)
    return [Change(f"{major}.{minor}", entry["date"], entry["summary"]) for minor, entry in enumerate(recorded, 1)]


def contract_history(contract: str, changelog: Path = CHANGELOG) -> str:
    """The version and its changes in a line, for the catalog and the AsyncAPI document."""
    changes = "; ".join(f"{c.version} ({c.on.isoformat()}): {c.summary}" for c in changes_of(contract, changelog))
    since = f", changed since {major_of(contract)}.0: {changes}" if changes else ""
    return version_of(contract, changelog) + since


@dataclass(frozen=True)
class Deprecation:
    """A field that will be removed from a contract: announced to its writers from `announced`, gone after
    `sunset` (in a new major version: a field's removal is never a compatible change)."""

    contract: str
    field: str
    announced: date
    sunset: date
    note: str


def deprecations_of(contract: str, changelog: Path = CHANGELOG) -> list[Deprecation]:
    """The contract's fields announced as deprecated."""
    entries: list[dict[str, Any]] = _read(changelog).get("deprecation", [])
    return [
        Deprecation(contract, entry["field"], entry["announced"], entry["sunset"], entry["note"])
        for entry in entries
        if entry["contract"] == contract
    ]


def version_of(contract: str, changelog: Path = CHANGELOG) -> str:
    """MAJOR.MINOR: the type's own major version, and the number of compatible changes since its release."""
    return f"{major_of(contract)}.{len(changes_of(contract, changelog))}"


class _Entry(TypedDict):
    contract: str
    date: date
    summary: str


def _entries(changelog: Path) -> list[_Entry]:
    entries: list[_Entry] = _read(changelog).get("change", [])
    return entries


@functools.cache
def _read(changelog: Path) -> dict[str, Any]:
    """The changelog, read once per process: it ships with the code, and intake consults it on every submission."""
    with changelog.open("rb") as file:
        return tomllib.load(file)

"""Released contracts are kept, and a change to one must let every reader and writer go on working.

schemas/released/ holds each contract's JSON Schema as last released (`backbone compatibility --release` copies
schemas/jsonschema/ there). Against it, `backbone compatibility` asks of every contract:

- **backward**: does today's reader accept every record the release wrote? (for an event: a record still on the
  topic, or replayed from the ledger; for a submission: what an agency built on the release sends);
- **forward**, for events: does the released consumer, which ignores fields it does not know (a tolerant reader,
  backbone/records.py), accept every record today's producer writes? This is what a rolling upgrade needs: old
  consumers read the new producer's records until they are upgraded too. Submissions are refused strictly by their
  reader, which is upgraded before any agency writes a new field, so they are asked backward only;
- **recorded**: a changed schema has its change in schemas/changelog.toml (its next MINOR version);
- **meaning**: no field's or contract's description changed, since the catalog states the meaning there, and no
  field's format (a `uuid` stays a `uuid`).

The first two are answered by Apicurio Registry's JSON Schema checker (tools/schema-compat), the rules its registry
enforces: removing or renaming a field, making an optional one required, narrowing a type, an enum or a length are
refused; an optional field added is allowed. A contract released and no longer generated is refused too: its type
must stay readable (a `.v2` is published beside it, see the runbook).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.documents.json_schemas import SCHEMA_DIR, SUBMISSIONS

RELEASED_DIR = SCHEMA_DIR.parent / "released"
CHECKER = Path(__file__).resolve().parents[2] / "tools" / "schema-compat" / "run"


@dataclass(frozen=True)
class Problem:
    contract: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.contract}: {self.rule}: {self.detail}"


def check(released: Path = RELEASED_DIR, current: Path = SCHEMA_DIR) -> tuple[list[Problem], int]:
    """Every problem of the current schemas against the released ones, and how many contracts were compared."""
    problems: list[Problem] = []
    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    names = sorted(path.stem for path in released.glob("*.json"))
    for contract in names:
        old = _load(released / f"{contract}.json")
        if not (current / f"{contract}.json").exists():
            problems.append(Problem(contract, "removed", "a released contract must stay; publish a .v2 beside it"))
            continue
        new = _load(current / f"{contract}.json")
        if _body(old) == _body(new):
            continue
        if old.get("x-contract-version") == new.get("x-contract-version"):
            problems.append(
                Problem(contract, "not recorded", "its schema changed: record the change in schemas/changelog.toml")
            )
        problems += [Problem(contract, "meaning", detail) for detail in _meanings_changed(old, new)]
        pairs.append((f"{contract} backward", "reads what the release wrote", old, new))
        if contract not in SUBMISSIONS:
            pairs.append((f"{contract} forward", "the release's reader reads what is written now", new, _open(old)))
    problems += _judged(pairs)
    return problems, len(names)


def release(current: Path = SCHEMA_DIR, released: Path = RELEASED_DIR) -> list[str]:
    """Keep the current schemas as the released ones; returns the contracts whose release changed."""
    released.mkdir(exist_ok=True)
    changed = []
    for path in sorted(current.glob("*.json")):
        target = released / path.name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)
            changed.append(path.stem)
    return changed


def _judged(pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> list[Problem]:
    """Ask the checker whether each (old, new) pair is backward compatible, in one run of it."""
    if not pairs:
        return []
    with tempfile.TemporaryDirectory(prefix="schema-compat-") as scratch:
        lines = []
        for n, (label, _, old, new) in enumerate(pairs):
            old_file, new_file = Path(scratch, f"{n}-old.json"), Path(scratch, f"{n}-new.json")
            old_file.write_text(json.dumps(_draft7(old)), encoding="utf-8")
            new_file.write_text(json.dumps(_draft7(new)), encoding="utf-8")
            lines.append(f"{label}\t{old_file}\t{new_file}\n")
        ran = subprocess.run(
            [str(CHECKER)], input="".join(lines), capture_output=True, text=True, check=False, timeout=600
        )
    if ran.returncode != 0:
        raise RuntimeError(f"the compatibility checker failed (exit {ran.returncode}): {ran.stderr.strip()[-2000:]}")
    meaning = {label: what for label, what, _, _ in pairs}
    problems = []
    for line in ran.stdout.splitlines():
        answer = json.loads(line)
        contract, direction = answer["label"].split(" ")
        said = meaning[answer["label"]]
        if "error" in answer:
            problems.append(Problem(contract, direction, f"the checker could not read it: {answer['error']}"))
        elif not answer["compatible"]:
            found = "; ".join(f"{d['type']} at {d['path'] or '/'}" for d in answer["differences"])
            problems.append(Problem(contract, direction, f"not compatible ({said}): {found}"))
    return problems


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its annotations for people (version, changelog): what a validator sees."""
    return {key: value for key, value in schema.items() if not key.startswith("x-")}


def _draft7(schema: dict[str, Any]) -> dict[str, Any]:
    """The checker reads drafts 4 to 7; the keywords pydantic writes mean the same there ($defs pointers resolve)."""
    return {key: value for key, value in _body(schema).items() if key != "$schema"}


def _open(schema: Any) -> Any:
    """The schema as a tolerant reader applies it: a property it does not know is ignored, wherever it is."""
    if isinstance(schema, dict):
        return {key: _open(value) for key, value in schema.items() if key != "additionalProperties"}
    if isinstance(schema, list):
        return [_open(value) for value in schema]
    return schema


def _meanings_changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """A description or format that differs between the release and now, named by where it is."""
    now = dict(_stated(new))
    return [
        f"{where} was {before!r}, is now {now.get(where)!r}: a new meaning needs a new type (.v2)"
        for where, before in _stated(old)
        if where in now and now[where] != before
    ]


def _stated(schema: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """(where, value) of every description and format in the schema."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("description", "format") and isinstance(value, str):
                yield f"{where or '/'} {key}", value
            elif not key.startswith("x-"):
                yield from _stated(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            yield from _stated(value, f"{where}/{n}")

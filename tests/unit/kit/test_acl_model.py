"""The ACL model (backbone/acl.py): the owner alone writes its topic, an agency only writes the ingress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backbone.acl import (
    INGRESS_TOPICS,
    agency_principal,
    principal_acls,
    read_agencies,
    read_consumed_topics,
)
from schemas.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[3]


def _model() -> dict[str, list[tuple[str, str, str]]]:
    """principal -> (resource type, name, operation), one row per operation."""
    acls = principal_acls(read_consumed_topics(), [agency["id"] for agency in read_agencies()])
    return {
        principal: [(acl.resource_type, acl.name, op) for acl in rules for op in acl.operations]
        for principal, rules in acls.items()
    }


def test_every_events_topic_has_one_writer_its_owner() -> None:
    model = _model()
    for spec in ALL_TOPICS:
        if not spec.name.endswith(".events.v1"):
            continue
        writers = {principal for principal, rows in model.items() if ("topic", spec.name, "Write") in rows}
        assert writers == {f"svc-{spec.name.split('.')[0]}"}, spec.name


def test_an_agency_writes_the_ingress_and_reads_nothing() -> None:
    model = _model()
    agencies = [principal for principal in model if principal.startswith("agency-")]
    assert len(agencies) == len(read_agencies())
    for principal in agencies:
        assert {(kind, name) for kind, name, op in model[principal] if op == "Write"} == {
            ("topic", topic) for topic in INGRESS_TOPICS
        }
        assert not [row for row in model[principal] if row[2] == "Read" or row[0] == "group"], principal
    assert agency_principal("chiku-fukushi-katase") in model


def test_the_model_imports_with_the_standard_library_alone() -> None:
    """deploy/generate.py imports it from the deploy check's environment, which lacks the services' packages."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from backbone import acl; print(len(acl.INGRESS_TOPICS))"
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"

"""Who may read and write what on Kafka: one principal per service and per agency, and its ACLs.

The one model of the cluster's access control. `deploy/generate.py` writes the production ACLs from it
(Strimzi's `KafkaUser`s, Compose's `acls.txt`) and `backbone secure-kafka` applies it to the local
secured broker, so the ACLs rehearsed locally are the production ones.

Kafka refuses whatever no ACL allows; every ACL here is an allow on a literal name, never a prefix.

Standard library and `schemas` only: `deploy/generate.py` imports this module from the deploy check's
small environment, which has PyYAML and nothing of the services' dependencies.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.topics import ALL_TOPICS, CONSUMERS, INTAKE_SUBMISSIONS, REFERRAL_RESPONSES

REPO = Path(__file__).resolve().parents[1]
ASYNCAPI = REPO / "docs" / "asyncapi.json"
DIRECTORY = REPO / "schemas" / "directory.toml"

INGRESS_TOPICS = (INTAKE_SUBMISSIONS.name, REFERRAL_RESPONSES.name)
LAG_READER = "keda-lag-reader"


@dataclass(frozen=True)
class Acl:
    """Allow `principal` the `operations` (Kafka's names: Read, Write, Describe) on one topic or group."""

    principal: str
    resource_type: str  # topic | group
    name: str
    operations: tuple[str, ...]


def service_principal(service: str) -> str:
    return f"svc-{service}"


def agency_principal(agency_id: str) -> str:
    return f"agency-{agency_id}"


def redrive_group(service: str) -> str:
    """The consumer group `backbone dlq redrive <service>` reads the service's dead letters under."""
    return f"{service}.dlq-redrive"


def consumed_topics(asyncapi: dict[str, Any]) -> dict[str, list[str]]:
    """Each consuming service's topics, as the services are wired (from their AsyncAPI document)."""
    consumed: dict[str, list[str]] = {service: [] for service in CONSUMERS}
    for name, operation in asyncapi["operations"].items():
        if operation["action"] != "receive":
            continue
        service, verb, topic = name.split(" ", 2)
        if verb != "consumes" or service not in consumed:
            raise ValueError(f"docs/asyncapi.json: unexpected receive operation {name!r}")
        consumed[service].append(topic)
    # audit is left out of the AsyncAPI document's subscribers: it records every topic, dead letters too.
    consumed["audit"] = [spec.name for spec in ALL_TOPICS]
    return {service: sorted(topics) for service, topics in consumed.items()}


def service_acls(consumed: dict[str, list[str]]) -> dict[str, list[Acl]]:
    """Each service writes its own events topic alone, reads what it consumes, and uses its own groups."""
    acls: dict[str, list[Acl]] = {}
    for service in CONSUMERS:
        principal = service_principal(service)
        own = [f"{service}.events.v1"] if any(s.name == f"{service}.events.v1" for s in ALL_TOPICS) else []
        rules = [Acl(principal, "topic", topic, ("Write", "Describe")) for topic in own]
        # Its dead letters: written by the consumer, read back by `backbone dlq list|redrive <service>`.
        rules.append(Acl(principal, "topic", f"{service}.dlq.v1", ("Write", "Read", "Describe")))
        rules += [
            Acl(principal, "topic", topic, ("Read", "Describe"))
            for topic in consumed[service]
            if topic != f"{service}.dlq.v1"
        ]
        rules.append(Acl(principal, "group", service, ("Read", "Describe")))
        rules.append(Acl(principal, "group", redrive_group(service), ("Read", "Describe")))
        acls[principal] = rules
    return acls


def agency_acls(agency_id: str) -> list[Acl]:
    """An agency writes the ingress topics and nothing else: it cannot read the bus, not even its own records."""
    return [Acl(agency_principal(agency_id), "topic", topic, ("Write", "Describe")) for topic in INGRESS_TOPICS]


def lag_reader_acls(consumed: dict[str, list[str]], groups: Iterable[str]) -> list[Acl]:
    """KEDA reads committed offsets and end offsets: Describe on the groups and the topics, nothing else."""
    topics = sorted({topic for service, topics in consumed.items() if service != "audit" for topic in topics})
    return [Acl(LAG_READER, "topic", topic, ("Describe",)) for topic in topics] + [
        Acl(LAG_READER, "group", group, ("Describe",)) for group in groups
    ]


def principal_acls(consumed: dict[str, list[str]], agency_ids: Iterable[str]) -> dict[str, list[Acl]]:
    """Every service's and every agency's ACLs, by principal (what Compose's kafka-init applies)."""
    return {**service_acls(consumed), **{agency_principal(agency): agency_acls(agency) for agency in agency_ids}}


def read_consumed_topics(path: Path = ASYNCAPI) -> dict[str, list[str]]:
    return consumed_topics(json.loads(path.read_text(encoding="utf-8")))


def read_agencies(path: Path = DIRECTORY) -> list[dict[str, Any]]:
    """The agencies and places of the service directory, as written (the referral service validates the file).
    A place may have a system of its own that writes to the ingress topics, as any agency may."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [*data["agency"], *({"type": "community-place", **place} for place in data.get("place", []))]


def read_principal_acls() -> dict[str, list[Acl]]:
    """The services' and agencies' ACLs from the repository's own files (Compose's set; KEDA's is apart)."""
    return principal_acls(read_consumed_topics(), [agency["id"] for agency in read_agencies()])

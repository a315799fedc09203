"""Watching the day from the topics (a public interface): counts of what happened, and times to acceptance."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.events import ReferralDeclined
from schemas.topics import INTAKE_EVENTS, MEETINGS_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS

TOPICS = (INTAKE_EVENTS.name, REFERRAL_EVENTS.name, MEETINGS_EVENTS.name, NOTIFY_EVENTS.name)


@dataclass
class Tally:
    events: Counter[str] = field(default_factory=Counter)
    districts: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    declined_for: Counter[str] = field(default_factory=Counter)
    """Declines by their reason code (the only reason on the bus)."""
    rerouted: int = 0
    held_for: Counter[str] = field(default_factory=Counter)
    """Meetings held, by purpose (the purpose says the kind: schemas.events.MeetingPurpose)."""
    participation: Counter[str] = field(default_factory=Counter)
    """Referrals to 参加支援 places, by what became of them (proposed, accepted, completed)."""
    _to_places: set[str] = field(default_factory=set)
    households_joined: int = 0
    """Consultations about a household member that joined the household's case (8050: the child's)."""
    proposed_at: dict[str, datetime] = field(default_factory=dict)
    seconds_to_accept: list[float] = field(default_factory=list)
    multi_agency_case: str | None = None
    cases: set[str] | None = None
    """Today's cases, when given: only their events count. A machine that keeps its data holds earlier runs'
    cases, whose referrals and notifications go on (overdue, escalated) while the day runs."""

    def count(self, kind: str) -> int:
        return self.events[kind]

    def line(self) -> str:
        e = self.events
        return (
            f"consultations {e['consultation.received']:>4} | referrals proposed {e['referral.proposed']:>4} "
            f"accepted {e['referral.accepted']:>4} declined {e['referral.declined']:>3} re-routed {self.rerouted:>3} "
            f"overdue {e['referral.overdue']:>3} | meetings {e['meeting.requested']:>3} held {e['meeting.held']:>3} "
            f"plans {e['support-plan.confirmed']:>3} | notified {e['notification.delivered']:>4} "
            f"escalated {e['notification.escalated']:>3}"
        )

    def add(self, event_type: str, time: datetime, data: dict[str, object]) -> None:
        if self.cases is not None and str(data.get("case_id")) not in self.cases:
            return
        if event_type == ReferralDeclined.TYPE:
            return  # the day's declines are read as v2, published beside v1 while readers move
        kind = ".".join(event_type.split(".")[-3:-1])
        self.events[kind] += 1
        if kind == "consultation.received":
            self.districts[str(data["district"])] += 1
            self.households_joined += bool(data.get("household_id")) and data.get("new_case") is False
        elif kind == "referral.proposed":
            self.proposed_at[str(data["referral_id"])] = time
            self.rerouted += int(str(data.get("attempt", 1)) != "1")
            if data.get("routing_rule") == "coordination" and self.multi_agency_case is None:
                self.multi_agency_case = str(data["case_id"])
            if data.get("routing_rule") == "participation":
                self._to_places.add(str(data["referral_id"]))
        elif kind == "meeting.held":
            self.held_for[str(data.get("purpose") or "plan-confirmation")] += 1
        if kind.startswith("referral.") and str(data.get("referral_id")) in self._to_places:
            self.participation[kind.removeprefix("referral.")] += 1
        if kind in {"referral.accepted", "referral.declined", "referral.overdue"}:
            self.outcomes[kind.split(".")[1]] += 1
            if kind == "referral.declined":
                self.declined_for[str(data.get("reason", ""))] += 1
            proposed = self.proposed_at.get(str(data["referral_id"]))
            if kind == "referral.accepted" and proposed is not None:
                self.seconds_to_accept.append((time - proposed).total_seconds())


async def watch(bootstrap: str) -> tuple[AIOKafkaConsumer, dict[TopicPartition, int]]:
    """A consumer positioned at the topics' current ends: it sees what happens from now on."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for topic in TOPICS for p in range(6)]
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    for partition, offset in ends.items():
        consumer.seek(partition, offset)
    return consumer, ends


async def drain(consumer: AIOKafkaConsumer, tally: Tally) -> None:
    for records in (await consumer.getmany(timeout_ms=200)).values():
        for record in records:
            headers = {name: value.decode(errors="replace") for name, value in record.headers}
            if "ce_type" not in headers:
                continue
            try:
                data = json.loads(record.value or b"")
            except json.JSONDecodeError:
                continue
            time = datetime.fromisoformat(headers.get("ce_time", "1970-01-01T00:00:00Z").replace("Z", "+00:00"))
            tally.add(headers["ce_type"], time, data)

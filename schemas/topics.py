"""Every topic of the backbone, declared once: name, partitions and configs.

One topic per owning service (only the owner writes it), ingress topics that agency systems write,
and one dead-letter topic per consuming service. Topics are created explicitly by `backbone up`
(auto-creation is off on the broker and in the clients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    purpose: str
    configs: dict[str, str] = field(default_factory=dict)


# Events are kept 30 days on the bus; the audit ledger is the permanent record.
_EVENT_CONFIGS = {"retention.ms": str(30 * DAY_MS), "cleanup.policy": "delete"}
# Dead letters wait for a person to look at them, so they are kept a year.
_DEAD_LETTER_CONFIGS = {"retention.ms": str(365 * DAY_MS), "cleanup.policy": "delete"}

INTAKE_EVENTS = TopicSpec("intake.events.v1", 6, "consultations received, consent, disclosures", _EVENT_CONFIGS)
REFERRAL_EVENTS = TopicSpec("referral.events.v1", 6, "the referral lifecycle and case leads", _EVENT_CONFIGS)
MEETINGS_EVENTS = TopicSpec("meetings.events.v1", 6, "case meetings and support plans", _EVENT_CONFIGS)
NOTIFY_EVENTS = TopicSpec("notify.events.v1", 6, "notification deliveries and acknowledgements", _EVENT_CONFIGS)

INTAKE_SUBMISSIONS = TopicSpec(
    "intake.submissions.v1", 6, "ingress: consultations submitted by agency systems", _EVENT_CONFIGS
)
REFERRAL_RESPONSES = TopicSpec(
    "referral.responses.v1", 6, "ingress: agencies accept or decline referrals", _EVENT_CONFIGS
)


def dead_letter_topic(consumer: str) -> TopicSpec:
    """The dead-letter topic of one consuming service: records it could not process, with the reason."""
    return TopicSpec(f"{consumer}.dlq.v1", 1, f"dead letters of the {consumer} consumer", _DEAD_LETTER_CONFIGS)


CONSUMERS = ("intake", "referral", "meetings", "notify", "audit")

ALL_TOPICS: tuple[TopicSpec, ...] = (
    INTAKE_EVENTS,
    REFERRAL_EVENTS,
    MEETINGS_EVENTS,
    NOTIFY_EVENTS,
    INTAKE_SUBMISSIONS,
    REFERRAL_RESPONSES,
    *(dead_letter_topic(consumer) for consumer in CONSUMERS),
)

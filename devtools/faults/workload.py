"""The fault suite's workload: seeded consultations submitted the way an agency's system submits them.

Each consultation is urgent and names one support domain in one district, so exactly one referral and
one notification must follow it. Every submission carries an Idempotency-Key and is retried with that
key until it gets a definite answer — a 2xx (stored) or a 4xx (refused) — as a careful agency system
would when a connection breaks or a service answers 5xx during a fault. Each run marks its consultations
with a staff id of its own, so the checker finds exactly this run's work among earlier runs'.

A few submissions are invalid on purpose (an unknown district); they must be refused and leave nothing
behind. Poison records (bytes that are no event) go to the ingress topic; they must all end up in the
dead-letter topic, and nothing else may.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer

from devtools.bench.measure import open_loop
from schemas.topics import INTAKE_SUBMISSIONS
from schemas.vocabulary import District

RETRY_FOR_SECONDS = 600.0  # a submission keeps being retried this long before the run calls it lost
_DISTRICTS = [district.value for district in District]


@dataclass
class Submitted:
    """What the load generator knows of one submission when the run ends."""

    key: str
    valid: bool
    status: int | None = None  # the definite answer; None when none came within RETRY_FOR_SECONDS
    case_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    attempts: int = 0


@dataclass
class Workload:
    intake_url: str
    token: str
    run_id: str
    seed: int
    invalid_share: float = 0.01
    submitted: list[Submitted] = field(default_factory=list)
    poison_keys: list[str] = field(default_factory=list)

    @property
    def agency(self) -> str:
        return self.token.split(".", 1)[0]

    @property
    def staff_id(self) -> str:
        return f"faults-{self.run_id}"

    def body(self, n: int, *, valid: bool) -> dict[str, object]:
        return {
            "receiving_agency": self.agency,
            "staff_id": self.staff_id,
            "channel": "phone",
            "district": _DISTRICTS[n % len(_DISTRICTS)] if valid else "atlantis",
            "domains": ["elderly"],
            "urgency": "urgent",
        }

    async def submit(self, count: int, rate: float) -> None:
        """`count` consultations at `rate` per second (open loop), each retried until answered."""
        chooser = random.Random(self.seed)  # noqa: S311 - a reproducible workload, not security
        async with httpx.AsyncClient(
            base_url=self.intake_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            limits=httpx.Limits(max_connections=64),
        ) as http:

            async def one(n: int) -> None:
                item = Submitted(key=f"{self.run_id}-{n}", valid=chooser.random() >= self.invalid_share)
                self.submitted.append(item)
                await self._until_answered(http, item, self.body(n, valid=item.valid))

            await open_loop(rate, count, one)

    async def _until_answered(self, http: httpx.AsyncClient, item: Submitted, body: dict[str, object]) -> None:
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        pause = 0.2
        while time.monotonic() < deadline:
            item.attempts += 1
            try:
                answer = await http.post("/v1/consultations", json=body, headers={"Idempotency-Key": item.key})
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code < 500:
                item.status = answer.status_code
                if answer.status_code in (200, 201):
                    accepted = answer.json()
                    item.case_id = uuid.UUID(accepted["case_id"])
                    item.event_id = uuid.UUID(accepted["event_id"])
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def inject_poison(self, producer: AIOKafkaProducer, count: int) -> None:
        """Records on the ingress topic that are no submission at all: no headers, bytes that are not JSON."""
        for n in range(count):
            key = f"poison-{self.run_id}-{n}"
            value = b"\xff\xfe not an event " + key.encode()
            await producer.send_and_wait(INTAKE_SUBMISSIONS.name, value=value, key=key.encode())
            self.poison_keys.append(key)

    def accepted(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status in (200, 201)]

    def refused(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status is not None and 400 <= item.status < 500]

    def unanswered(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status is None]

"""The fault suite's workload: seeded consultations submitted the way an agency's system submits them.

Each consultation is urgent and names one support domain in one district, so exactly one referral and
one notification must follow it. Every submission carries an Idempotency-Key and is retried with that
key until it gets a definite answer — a 2xx (stored) or a 4xx (refused) — as a careful agency system
would when a connection breaks or a service answers 5xx during a fault. Each run marks its consultations
with a staff id of its own, so the checker finds exactly this run's work among earlier runs'.

Where a scenario asks for it, every n-th accepted consultation's first referral is then declined by the agency
it was proposed to, through referral's API as that agency's staff would: the next agency must be proposed, and
the decline recorded once however many versions of its event were published (the upgrade scenarios run
referral of two releases, which publish different versions).

A few submissions are invalid on purpose (an unknown district); they must be refused and leave nothing
behind. Poison records (bytes that are no event) go to the ingress topic; they must all end up in the
dead-letter topic, and nothing else may.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Mapping
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
    sent_at: float = 0.0  # monotonic: the first try
    answered_at: float | None = None  # monotonic: the definite answer, after however many tries


@dataclass
class Workload:
    intake_url: str
    token: str
    run_id: str
    seed: int
    invalid_share: float = 0.01
    decline_every: int = 0  # every n-th consultation's first referral is declined (0: none is)
    referral_url: str = ""
    answerers: Mapping[str, str] = field(default_factory=dict)  # agency id → token, for the declines
    submitted: list[Submitted] = field(default_factory=list)
    failed_tries: list[tuple[float, str]] = field(default_factory=list)
    """(monotonic time, what it met) of every try that got no definite answer: a status (503), or an error's
    name (ReadTimeout, ConnectError)."""
    poison_keys: list[str] = field(default_factory=list)
    declined: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # case → its declined referral

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
        async with (
            httpx.AsyncClient(
                base_url=self.intake_url,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=10,
                limits=httpx.Limits(max_connections=64),
            ) as http,
            httpx.AsyncClient(base_url=self.referral_url, timeout=10) as referral,
        ):

            async def one(n: int) -> None:
                item = Submitted(
                    key=f"{self.run_id}-{n}", valid=chooser.random() >= self.invalid_share, sent_at=time.monotonic()
                )
                self.submitted.append(item)
                await self._until_answered(http, item, self.body(n, valid=item.valid))
                if self.decline_every and n % self.decline_every == 0 and item.case_id is not None:
                    await self._decline_first_referral(referral, item.case_id)

            await open_loop(rate, count, one)

    async def _until_answered(self, http: httpx.AsyncClient, item: Submitted, body: dict[str, object]) -> None:
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        pause = 0.2
        while time.monotonic() < deadline:
            item.attempts += 1
            try:
                answer = await http.post("/v1/consultations", json=body, headers={"Idempotency-Key": item.key})
            except httpx.HTTPError as error:
                answer = None
                self.failed_tries.append((time.monotonic(), type(error).__name__))
            if answer is not None and answer.status_code >= 500:
                self.failed_tries.append((time.monotonic(), str(answer.status_code)))
            if answer is not None and answer.status_code < 500:
                item.status, item.answered_at = answer.status_code, time.monotonic()
                if answer.status_code in (200, 201):
                    accepted = answer.json()
                    item.case_id = uuid.UUID(accepted["case_id"])
                    item.event_id = uuid.UUID(accepted["event_id"])
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def _decline_first_referral(self, referral: httpx.AsyncClient, case_id: uuid.UUID) -> None:
        """Wait for the case's first referral, then decline it as the agency it is addressed to. Retried, as a
        person would press the button again, until referral answers; a decline that never got through is not
        recorded, so the checker expects nothing of it."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        mine = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            try:
                answer = await referral.get("/v1/referrals", params={"case_id": str(case_id)}, headers=mine)
                first = [r for r in answer.json() if r["attempt"] == 1] if answer.status_code == 200 else []
                if first and first[0]["state"] == "declined":  # an earlier try got through, its answer did not
                    self.declined[case_id] = uuid.UUID(first[0]["referral_id"])
                    return
                if first:
                    theirs = {"Authorization": f"Bearer {self.answerers[first[0]['to_agency']]}"}
                    done = await referral.post(
                        f"/v1/referrals/{first[0]['referral_id']}/decline",
                        json={"reason": "no-capacity"},
                        headers=theirs,
                    )
                    if done.status_code == 200:
                        self.declined[case_id] = uuid.UUID(first[0]["referral_id"])
                        return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1.0)

    async def inject_poison(self, producer: AIOKafkaProducer, count: int) -> None:
        """Records on the ingress topic that are no submission at all: no headers, bytes that are not JSON."""
        for n in range(count):
            key = f"poison-{self.run_id}-{n}"
            value = b"\xff\xfe not an event " + key.encode()
            await producer.send_and_wait(INTAKE_SUBMISSIONS.name, value=value, key=key.encode())
            self.poison_keys.append(key)

    def answering(self) -> tuple[float, float]:
        """What an agency saw of the run: the longest time with no consultation accepted (between the first
        acceptance and the last), and the 99th percentile of the time to a definite answer, tries included."""
        accepted = sorted(s.answered_at for s in self.submitted if s.answered_at is not None and s.case_id)
        gaps = [later - earlier for earlier, later in itertools.pairwise(accepted)]
        waits = sorted(s.answered_at - s.sent_at for s in self.submitted if s.answered_at is not None)
        p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))] if waits else 0.0
        return max(gaps, default=0.0), p99

    def after(self, healed: float) -> tuple[float | None, dict[str, int]]:
        """Seconds from `healed` to the first consultation accepted after it (None: none was), and what the tries
        that failed in between met, by kind: a service that took its time to come back shows 503s, a load
        generator whose tries hung shows timeouts."""
        firsts = [s.answered_at for s in self.submitted if s.answered_at is not None and s.case_id]
        first = min((at for at in firsts if at >= healed), default=None)
        if first is None:
            return None, {}
        met = Counter(kind for at, kind in self.failed_tries if healed <= at < first)
        return first - healed, dict(met)

    def accepted(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status in (200, 201)]

    def refused(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status is not None and 400 <= item.status < 500]

    def unanswered(self) -> list[Submitted]:
        return [item for item in self.submitted if item.status is None]

"""The whole pipeline, as an agency and its on-call staff see it: a consultation submitted over intake's
HTTP API until notify has delivered the notification it causes (an e-mail, accepted by the SMTP server).

- P1: sustained throughput — `count` consultations from `clients` concurrent clients, each submitting its
  next one as soon as the last was answered; the clock runs from the first submission to the last delivery.
- L1: latency at a fixed arrival rate (open loop: a consultation leaves on schedule whatever happened to
  the earlier ones), submission → delivered, with the first 10% of samples discarded.

Each consultation is urgent (urgent notifications go out at once, day and night; normal ones would wait
out the quiet hours) and names one support domain in one district, so it becomes exactly one referral
and one notification to that agency's primary on call. Before measuring, every agency's on-call roster
is set to the directory's default (`devtools.local.operators.use_directory_defaults`). The delivery time
is the dispatcher's record of when the SMTP server accepted the message (notify's
`deliveries.delivered_at`); both clocks are this machine's.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import httpx

from devtools.bench import hops
from devtools.bench.cpu import CpuMeter, CpuUse
from devtools.bench.measure import open_loop, percentiles
from devtools.local.stack import LocalStack
from schemas.vocabulary import District

SETTLE_TIMEOUT_SECONDS = 300.0
SUBMITTER = "chiku-fukushi-katase"  # the agency whose staff submit the benchmark's consultations
CPU_SETTLE_SECONDS = 2.0  # after P1's last delivery, still counted: audit's ledger and the outboxes catch up
_DISTRICTS = [district.value for district in District]


class PipelineStalledError(RuntimeError):
    """Notifications stopped arriving before every submitted consultation was delivered."""


def _submission(agency: str, n: int) -> dict[str, object]:
    return {
        "receiving_agency": agency,
        "staff_id": "bench",
        "channel": "phone",
        "district": _DISTRICTS[n % len(_DISTRICTS)],
        "domains": ["elderly"],
        "urgency": "urgent",
    }


class Pipeline:
    """Submits consultations and waits for their notifications; shared by P1, L1 and O1."""

    def __init__(self, intake_url: str, token: str, dsns: Mapping[str, str]) -> None:
        """`dsns`: the databases of intake, referral and notify, where a consultation's way is read."""
        self.intake_url = intake_url
        self.token = token
        self.agency = token.split(".", 1)[0]
        self.dsns = dsns
        self._serial = itertools.count()

    @classmethod
    def on(cls, stack: LocalStack, tokens: dict[str, str]) -> Pipeline:
        """Against the local stack's intake, as the benchmark's submitter (`tokens`: agency id → token)."""
        return cls(stack.base_url("intake"), tokens[SUBMITTER], hops.databases(stack))

    def client(self, connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.intake_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            limits=httpx.Limits(max_connections=connections),
        )

    async def submit(self, http: httpx.AsyncClient) -> tuple[uuid.UUID, datetime]:
        """One consultation; its case id and when it was submitted."""
        submitted = datetime.now(UTC)
        answer = await http.post("/v1/consultations", json=_submission(self.agency, next(self._serial)))
        if answer.status_code != 201:
            raise RuntimeError(f"intake answered {answer.status_code}: {answer.text[:300]}")
        return uuid.UUID(answer.json()["case_id"]), submitted

    async def delivered(self, cases: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        """When each case's referral notification was delivered; waits while deliveries keep arriving."""
        conn = await asyncpg.connect(self.dsns["notify"])
        try:
            seen: dict[uuid.UUID, datetime] = {}
            last_progress = time.monotonic()
            while len(seen) < len(cases):
                rows = await conn.fetch(
                    "SELECT case_id, delivered_at FROM deliveries WHERE case_id = ANY($1::uuid[])"
                    " AND category = 'referral-proposed' AND state = 'delivered'",
                    [case for case in cases if case not in seen],
                )
                if rows:
                    last_progress = time.monotonic()
                seen |= {row["case_id"]: row["delivered_at"] for row in rows}
                if time.monotonic() - last_progress > SETTLE_TIMEOUT_SECONDS:
                    raise PipelineStalledError(
                        f"{len(cases) - len(seen)} of {len(cases)} notifications were not delivered within"
                        f" {SETTLE_TIMEOUT_SECONDS:.0f}s of the last one; see the services' logs in"
                        " $BACKBONE_HOME/logs"
                    )
                await asyncio.sleep(0.05)
            return seen
        finally:
            await conn.close()

    async def throughput(self, count: int, clients: int = 32) -> float:
        """P1: consultations per second, first submission → last notification delivered."""
        cases: list[uuid.UUID] = []
        async with self.client(clients) as http:
            remaining = iter(range(count))

            async def one_client() -> None:
                for _ in remaining:
                    case, _submitted = await self.submit(http)
                    cases.append(case)

            began = datetime.now(UTC)
            await asyncio.gather(*(one_client() for _ in range(clients)))
        last = max((await self.delivered(cases)).values())
        return count / (last - began).total_seconds()

    async def metered_throughput(self, count: int) -> tuple[float, CpuUse]:
        """P1, and the CPU every process spent on it (C1): the meter runs on a little past the last delivery."""
        with CpuMeter() as meter:
            rate = await self.throughput(count)
            await asyncio.sleep(CPU_SETTLE_SECONDS)
        return rate, meter.use

    async def latency(self, rate: float, seconds: float) -> dict[str, float]:
        """L1: submission → delivered at `rate` consultations/s, open loop; percentiles in ms, and each hop's
        p50 and p99 (`devtools.bench.hops`) as "<hop> p50" and "<hop> p99"."""
        submitted: dict[uuid.UUID, datetime] = {}
        errors = 0
        async with self.client(500) as http:

            async def one() -> None:
                nonlocal errors
                try:
                    case, at = await self.submit(http)
                except (httpx.HTTPError, RuntimeError):
                    errors += 1
                    return
                submitted[case] = at

            await open_loop(rate, int(rate * seconds), lambda _n: one())
        delivered = await self.delivered(list(submitted))
        in_order = sorted(submitted, key=submitted.__getitem__)
        warm = in_order[len(in_order) // 10 :]  # the first 10% meet cold caches and connections
        samples = [(delivered[case] - submitted[case]).total_seconds() * 1000 for case in warm]
        found = await hops.ways(self.dsns, {case: submitted[case] for case in warm})
        by_hop = {
            f"{hop} {name}": figures[name]
            for hop, figures in hops.hop_percentiles(list(found.values())).items()
            for name in ("p50", "p99")
        }
        return percentiles(samples) | by_hop | {"consultations": float(len(submitted)), "errors": float(errors)}

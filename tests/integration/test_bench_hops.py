"""The benchmark's account of where L1's time goes finds a consultation's whole way, from its submission to its
e-mail, in the services' own records, and its stamps follow one another."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from devtools.bench.hops import HOPS, databases, hop_percentiles, ways
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_notify import consult


async def test_a_consultations_way_is_found_hop_by_hop_and_in_order(
    services: RunningServices, stack: LocalStack
) -> None:
    dsns = databases(stack)
    submitted = datetime.now(UTC)
    case = UUID(await consult(services, "katase", ["elderly"], "経路"))
    other = UUID(int=case.int ^ 1)  # a case nobody submitted: no way, and no error
    found: dict[UUID, tuple[datetime, ...]] = {}

    async def delivered() -> bool:
        found.update(await ways(dsns, {case: submitted, other: submitted}))
        return case in found

    await eventually(delivered, within=30)
    way = found[case]
    assert other not in found
    assert len(way) == len(HOPS) + 1 and way[0] == submitted
    assert list(way) == sorted(way), way  # each stamp after the one before it
    by_hop = hop_percentiles([way])
    assert list(by_hop) == list(HOPS)
    total = (way[-1] - way[0]).total_seconds() * 1000
    assert abs(sum(figures["p50"] for figures in by_hop.values()) - total) < 0.01  # the hops add up to the way

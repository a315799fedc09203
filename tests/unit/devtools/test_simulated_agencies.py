"""The simulated agencies meet a real HTTP stack's transient errors as an agency's system does: the round ends for
that agency, is counted, and the next round tries again; a long run is not ended by one refused connection."""

from __future__ import annotations

import mailbox
from pathlib import Path

import httpx

from devtools.simulation.agencies import Agencies

NOBODY = "http://127.0.0.1:9"  # nothing listens on the discard port here: every connection is refused


async def test_a_round_that_meets_a_transport_error_is_counted_and_the_next_round_tries_again(tmp_path: Path) -> None:
    mailbox.Maildir(tmp_path / "mail", create=True)
    staff = Agencies({"ikiiki-katase": "a-token"}, set(), {"referral": NOBODY, "notify": NOBODY}, tmp_path / "mail", 1)
    async with httpx.AsyncClient(timeout=5) as http:
        await staff.work(http)
        await staff.work(http)
    assert staff.transport_errors == {"ConnectError": 2}

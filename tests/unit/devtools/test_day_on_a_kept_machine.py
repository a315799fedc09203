"""The day on a machine that keeps its data: earlier runs' mail is not read again (nor listed every round),
and the day's figures count its own cases only."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx

from devtools.simulation.agencies import Agencies
from devtools.simulation.watch import Tally


def a_message(case_id: str) -> EmailMessage:
    message = EmailMessage()
    message["X-Backbone-Case"] = case_id
    message["Message-ID"] = f"<{case_id}@test>"
    message.set_content("no acknowledgement link here")
    return message


async def test_earlier_mail_is_marked_read_once_and_each_round_reads_only_new_mail(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for number in range(3):
        box.add(a_message(f"earlier-{number}"))
    staff = Agencies({}, set(), {"notify": "http://127.0.0.1:9"}, tmp_path / "mail", seed=1)
    staff.skip_earlier_mail()
    assert staff._unread() == [] and len(box) == 3  # kept, as read (cur/), not deleted
    box.add(a_message("today-1"))
    assert len(staff._unread()) == 1
    async with httpx.AsyncClient() as http:
        await staff._read_mail(http)  # not one of today's cases: read, nothing pressed
    assert staff._unread() == [] and staff.counters.acknowledged == 0
    assert sorted(path.name.endswith(":2,S") for path in (tmp_path / "mail" / "cur").iterdir()) == [True] * 4


def test_the_days_figures_count_only_the_days_cases() -> None:
    tally = Tally(cases={"today"})
    now = datetime.now(UTC)
    kind = "jp.fujisawa.welfare.referral.referral.accepted.v1"
    tally.add(kind, now, {"case_id": "today", "referral_id": "r1"})
    tally.add(kind, now, {"case_id": "an-earlier-run", "referral_id": "r2"})
    assert tally.count("referral.accepted") == 1
    assert Tally().count("referral.accepted") == 0  # without a set of cases, everything counts

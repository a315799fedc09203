"""The day's summary counts meetings by kind and purpose, and what became of 参加支援 and outreach."""

from __future__ import annotations

from datetime import UTC, datetime

from devtools.simulation.agencies import Counters
from devtools.simulation.report import table
from devtools.simulation.watch import Tally

PREFIX = "jp.fujisawa.welfare."


def test_the_summary_counts_meetings_by_purpose_and_places_and_outreach_by_outcome() -> None:
    tally = Tally()
    now = datetime.now(UTC)

    def seen(kind: str, **data: object) -> None:
        tally.add(f"{PREFIX}{kind}.v1", now, {"case_id": "c", **data})

    seen("meetings.meeting.held", purpose="participation-plan")
    seen("meetings.meeting.held", purpose="outreach-plan")
    seen("meetings.meeting.held", purpose="outreach-plan")
    seen("meetings.meeting.held")  # written before purposes: its kind's ①
    seen("referral.referral.proposed", referral_id="to-a-place", routing_rule="participation", attempt=1)
    seen("referral.referral.proposed", referral_id="to-a-centre", routing_rule="domain", attempt=1)
    for referral in ("to-a-place", "to-a-centre"):
        seen("referral.referral.accepted", referral_id=referral)
    seen("referral.referral.completed", referral_id="to-a-place", outcome="resolved")
    seen("referral.outreach.started")
    seen("referral.outreach.contact-attempted")
    seen("referral.outreach.contact-attempted")
    seen("intake.consultation.received", district="katase", household_id="h", new_case=False)
    seen("intake.consultation.received", district="katase", household_id="h", new_case=True)
    rows = dict(table(tally, Counters(), submitted=2))
    assert rows["  重層的支援会議 ②参加支援につなぐプランの決定"] == 1
    assert rows["  重層的支援会議 ①支援プランの確認"] == 1
    assert rows["  支援会議 ②アウトリーチ支援につなぐプランの検討"] == 2
    assert rows["  支援会議 ①同意が得られていない事案のカンファレンス"] == 0
    assert [rows[f"参加支援 places: {s}"] for s in ("proposed / 提案", "accepted / 受諾", "joined / 参加")] == [1, 1, 1]
    assert rows["outreach / アウトリーチ: contact attempts / 接触の試み"] == 2
    assert rows["household members joining a case / 世帯員の相談"] == 1

"""The day's summary: a table for the terminal, and a picture (PNG) inside an HTML page."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from devtools.simulation.agencies import Counters
from devtools.simulation.watch import Tally
from schemas.events import PURPOSE_JA, DeclineReason, MeetingKind, MeetingPurpose

KIND_JA = {MeetingKind.CONSENT_BASED: "重層的支援会議", MeetingKind.CONFIDENTIAL: "支援会議"}
OUTREACH_STEPS = {
    "outreach.started": "started / 開始",
    "outreach.contact-attempted": "contact attempts / 接触の試み",
    "outreach.contact-made": "reached / 接触",
    "outreach.consent-obtained": "consented / 同意",
}
PARTICIPATION_STEPS = {"proposed": "proposed / 提案", "accepted": "accepted / 受諾", "completed": "joined / 参加"}


def table(tally: Tally, agencies: Counters, submitted: int) -> list[tuple[str, int]]:
    e = tally.events
    return [
        ("consultations submitted / 相談受付 (送信)", submitted),
        ("consultations received / 相談受付", e["consultation.received"]),
        ("referrals proposed / つなぎ提案", e["referral.proposed"]),
        ("  accepted / 受諾", e["referral.accepted"]),
        ("  declined / 辞退", e["referral.declined"]),
        *((f"    {code.replace('-', ' ')} / {code.japanese}", tally.declined_for[code]) for code in DeclineReason),
        ("  re-routed / 再提案", tally.rerouted),
        ("  overdue / 期限超過", e["referral.overdue"]),
        ("  escalated / エスカレーション", e["referral.escalated"]),
        ("lead agencies assigned / 主担当決定", e["case.lead-assigned"]),
        ("coordination requested / 多機関協働", e["coordination.requested"]),
        ("meetings requested / 会議の依頼", e["meeting.requested"]),
        ("meetings held / 会議の開催", e["meeting.held"]),
        *((f"  {KIND_JA[p.kind]} {PURPOSE_JA[p]}", tally.held_for[p]) for p in MeetingPurpose),
        ("support plans / 支援プラン", e["support-plan.confirmed"]),
        *((f"参加支援 places: {label}", tally.participation[step]) for step, label in PARTICIPATION_STEPS.items()),
        *((f"outreach / アウトリーチ: {label}", e[step]) for step, label in OUTREACH_STEPS.items()),
        ("household members joining a case / 世帯員の相談", tally.households_joined),
        ("notifications delivered / 通知", e["notification.delivered"]),
        ("notifications acknowledged / 通知の確認", e["notification.acknowledged"]),
        ("notifications escalated / 通知のエスカレーション", e["notification.escalated"]),
        ("notifications failed / 通知失敗", e["notification.failed"]),
        ("e-mails acknowledged by staff (simulated)", agencies.acknowledged),
    ]


def picture(tally: Tally, out: Path) -> tuple[Path, Path]:
    """Consultations per district, referral outcomes, time to acceptance, meetings by kind and purpose, and the
    参加支援 and outreach outcomes, as a PNG and an HTML page."""
    figure, ((districts, outcomes, times), (meetings, places, outreach)) = plt.subplots(2, 3, figsize=(15, 9))
    names = sorted(tally.districts, key=tally.districts.__getitem__, reverse=True)
    districts.bar(names, [tally.districts[n] for n in names], color="#4a6fb5")
    districts.set_title("Consultations per district")
    districts.tick_params(axis="x", rotation=60)
    kinds = ["accepted", "declined", "overdue"]
    outcomes.bar(kinds, [tally.outcomes[k] for k in kinds], color=["#3c9a5f", "#d08a2e", "#c0392b"])
    outcomes.set_title("Referral outcomes")
    times.hist(tally.seconds_to_accept or [0], bins=20, color="#7b5ea7")
    times.set_title("Time from proposal to acceptance")
    times.set_xlabel("seconds (the day is compressed)")
    purposes = list(MeetingPurpose)
    meetings.barh(
        [str(p) for p in purposes],
        [tally.held_for[p] for p in purposes],
        color=["#4a6fb5" if p.kind is MeetingKind.CONSENT_BASED else "#8e5ea2" for p in purposes],
    )
    meetings.set_title("Meetings held, by purpose (blue: with consent)")
    places.bar(list(PARTICIPATION_STEPS), [tally.participation[s] for s in PARTICIPATION_STEPS], color="#3c9a5f")
    places.set_title("Participation support (sanka shien) places: referrals")  # no CJK font in matplotlib
    steps = list(OUTREACH_STEPS)
    outreach.bar([s.split(".")[1] for s in steps], [tally.events[s] for s in steps], color="#d08a2e")
    outreach.set_title("Outreach")
    outreach.tick_params(axis="x", rotation=20)
    figure.suptitle("A day in Fujisawa through the backbone")
    figure.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    png = out / "day.png"
    figure.savefig(png, dpi=110)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    page = out / "day.html"
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{value}</td></tr>" for label, value in tally_rows(tally))
    page.write_text(
        "<!doctype html><html lang='ja'><meta charset='utf-8'><title>藤沢の一日 / A day in Fujisawa</title>"
        "<body style='font-family:system-ui,sans-serif;margin:2rem'><h1>藤沢の一日 / A day in Fujisawa</h1>"
        f"<img alt='consultations per district, referral outcomes, time to acceptance' style='max-width:100%'"
        f" src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"
        "<table border='1' cellpadding='4' style='border-collapse:collapse;margin-top:1rem'>"
        f"{rows}</table></body></html>",
        encoding="utf-8",
    )
    return png, page


def tally_rows(tally: Tally) -> list[tuple[str, int]]:
    return sorted(tally.events.items())

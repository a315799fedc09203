"""Simulated agencies: they answer their inboxes, acknowledge their e-mails, and coordinators convene
meetings and confirm plans — through the public HTTP APIs only, as the agencies' own systems would.

ASSUMPTION (behaviour): an agency accepts about 4 referrals in 5, declines about 1 in 7 with a real reason
(no capacity, outside the area, not eligible) and a few words for the next agency, and leaves the rest
unanswered long enough to go overdue; on-call staff acknowledge most e-mails after a short delay. Every
choice is drawn from the day's seed.
"""

from __future__ import annotations

import asyncio
import hashlib
import mailbox
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

DECLINE_REASONS = ("no-capacity", "outside-area", "not-eligible")
# What staff write beside the code: about the agency, never the person. referral keeps it; only the code is published.
DECLINE_NOTES = {
    "no-capacity": "今月の受入れ枠が埋まっています / no places left this month",
    "outside-area": "担当地区外のため、地区のセンターへ / outside our district: the district's centre is better placed",
    "not-eligible": "当事業所の対象外です / outside what our service covers",
}
ACK_LINK = re.compile(r"(/v1/ack/[0-9a-f-]+\?token=[0-9a-f]+)")
# The link opens a page; its button (a form) acknowledges. Staff press it, as a person would.
ACK_FORM = re.compile(r'<form method="post" action="([^"]+)"><input type="hidden" name="token" value="([^"]+)">')


async def acknowledge_as_staff(http: httpx.AsyncClient, link: str) -> bool:
    """Open an e-mail's acknowledgement link and press the page's button, as a person does (opening the link
    alone acknowledges nothing). False when the page has no button: acknowledged already, or not valid."""
    page = await http.get(link)
    button = ACK_FORM.search(page.text)
    if button is None:
        return False
    action, token = button.groups()
    pressed = await http.post(urljoin(str(page.url), action), data={"token": token})
    return pressed.status_code == 200


@dataclass
class Counters:
    answered: int = 0
    accepted: int = 0
    declined: int = 0
    left_unanswered: int = 0
    acknowledged: int = 0
    meetings_held: int = 0
    plans: int = 0


@dataclass
class Agencies:
    tokens: dict[str, str]
    coordinators: set[str]
    urls: dict[str, str]
    maildir: Path
    seed: int
    counters: Counters = field(default_factory=Counters)
    _seen: set[str] = field(default_factory=set)
    _meetings: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    """Today's cases. Staff answer only these: a machine that keeps its data holds earlier runs' and the
    fault suite's unanswered referrals, and answering all of them at once floods every inbox and mailbox."""

    def _draw(self, key: str) -> float:
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def skip_earlier_mail(self) -> None:
        """Mail already in the mailbox belongs to earlier runs: it is marked read once, so that staff read only
        what comes today, and each round lists only the unread (a kept mailbox may hold a hundred thousand)."""
        mailbox.Maildir(self.maildir, create=True)
        for path in self._unread():
            self._mark_read(path)

    def _unread(self) -> list[Path]:
        return sorted((self.maildir / "new").iterdir())

    def _mark_read(self, path: Path) -> None:
        """As a mail client does (Maildir): the message moves from new/ to cur/, flagged Seen."""
        path.rename(self.maildir / "cur" / f"{path.name}:2,S")

    async def work(self, http: httpx.AsyncClient) -> None:
        """One round: every agency looks at its inbox; staff read their mail; coordinators hold meetings."""
        await asyncio.gather(*(self._answer_inbox(http, agency) for agency in self.tokens))
        await self._read_mail(http)
        await asyncio.gather(*(self._convene(http, agency) for agency in self.coordinators))

    async def _answer_inbox(self, http: httpx.AsyncClient, agency: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[agency]}"}
        waiting = (await http.get(f"{self.urls['referral']}/v1/inbox", headers=headers)).json()
        for referral in waiting:
            key = referral["referral_id"]
            if key in self._seen or referral["case_id"] not in self.cases:
                continue
            self._seen.add(key)
            draw = self._draw(key)
            if draw < 0.06 and referral["attempt"] == 1 and agency not in self.coordinators:
                self.counters.left_unanswered += 1
                continue
            url = f"{self.urls['referral']}/v1/referrals/{key}"
            if draw < 0.20 and agency not in self.coordinators:
                reason = DECLINE_REASONS[int(draw * 1000) % len(DECLINE_REASONS)]
                await http.post(
                    f"{url}/decline", headers=headers, json={"reason": reason, "note": DECLINE_NOTES[reason]}
                )
                self.counters.declined += 1
            else:
                await http.post(f"{url}/accept", headers=headers)
                self.counters.accepted += 1
            self.counters.answered += 1

    async def _read_mail(self, http: httpx.AsyncClient) -> None:
        for path in self._unread():
            message = mailbox.MaildirMessage(path.read_bytes())
            self._mark_read(path)
            if str(message["X-Backbone-Case"]) not in self.cases:
                continue
            found = ACK_LINK.search(body_text(message))
            if found and self._draw(str(message["Message-ID"])) < 0.8:
                self.counters.acknowledged += await acknowledge_as_staff(http, f"{self.urls['notify']}{found.group(1)}")

    async def _convene(self, http: httpx.AsyncClient, coordinator: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[coordinator]}"}
        accepted = (
            await http.get(f"{self.urls['referral']}/v1/inbox", headers=headers, params={"state": ["accepted"]})
        ).json()
        for case_id in {referral["case_id"] for referral in accepted} & self.cases:
            meetings = (
                await http.get(f"{self.urls['meetings']}/v1/meetings", headers=headers, params={"case_id": case_id})
            ).json()
            for meeting in meetings:
                if meeting["meeting_id"] in self._meetings or meeting["state"] != "requested":
                    continue
                self._meetings.add(meeting["meeting_id"])
                await self._hold(http, headers, meeting)

    async def _hold(self, http: httpx.AsyncClient, headers: dict[str, str], meeting: dict[str, Any]) -> None:
        url = f"{self.urls['meetings']}/v1/meetings/{meeting['meeting_id']}"
        await http.post(f"{url}/schedule", headers=headers, json={})
        held = await http.post(
            f"{url}/held", headers=headers, json={"at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat()}
        )
        if held.status_code != 200:
            return
        self.counters.meetings_held += 1
        if meeting.get("purpose", "plan-confirmation") != "plan-confirmation":
            return  # a conference decides no plan; the day asks for no 参加支援 or outreach plans (yet)
        roles = [
            {"agency": agency, "responsibility": "monitoring", "domain": "elderly"}
            for agency in meeting["participants"]
            if agency != meeting["organizer"]
        ][:2]
        if roles:
            plan = {
                "goals": ["見守りを続ける"],
                "roles": roles,
                "review_on": (datetime.now(UTC) + timedelta(days=90)).date().isoformat(),
            }
            if (await http.post(f"{url}/plan", headers=headers, json=plan)).status_code == 201:
                self.counters.plans += 1


def body_text(message: mailbox.MaildirMessage) -> str:
    """The text part of a notification e-mail (the .ics, when there is one, is an attachment)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(errors="replace") if isinstance(payload, bytes) else ""
    return ""

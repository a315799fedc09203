"""Simulated agencies: they answer their inboxes, acknowledge their e-mails, and coordinators convene
meetings and confirm plans — through the public HTTP APIs only, as the agencies' own systems would.

ASSUMPTION (behaviour): an agency accepts about 4 referrals in 5, declines about 1 in 7 with a real reason
(no capacity, outside the area, not eligible) and a few words for the next agency, and leaves the rest
unanswered long enough to go overdue; on-call staff acknowledge most e-mails after a short delay. Every
choice is drawn from the day's seed.

ASSUMPTION (meetings, after the seed's p.16-17, which gives no shares): a coordinator who held a 重層的支援会議 ①
asks, for SHARE_PARTICIPATION of the cases, for a second one (②) that connects the person to a 参加支援 place of
the district; a place that accepts starts and completes (the person joined). After a 支援会議 ① without consent,
SHARE_OUTREACH of the cases get a 支援会議 ② deciding an outreach plan held by the district CSW, who then
records contact attempts (at most ATTEMPTS_A_DAY) until the person is reached, who then consents or not.
"""

from __future__ import annotations

import asyncio
import hashlib
import mailbox
import re
from collections import Counter
from collections.abc import Awaitable
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


SHARE_PARTICIPATION = 0.4
SHARE_OUTREACH = 0.5
ACKNOWLEDGED = 0.8
"""The share of notification e-mails staff acknowledge."""
CONSENTS = 0.5
"""The chance that a person reached by outreach consents."""
REACHED = 0.3
"""The chance that one contact attempt reaches the person."""
ATTEMPTS_A_DAY = 5
"""How many attempts the outreach worker makes on one case in the day."""
NEXT_PURPOSE = {"plan-confirmation": "participation-plan", "no-consent-conference": "outreach-plan"}
"""The meeting a coordinator may ask for after holding one of these purposes."""


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
    places: dict[str, list[str]] = field(default_factory=dict)
    """The 参加支援 places of each district."""
    district_of: dict[str, str] = field(default_factory=dict)
    """Each of today's cases' district."""
    households: dict[str, str | None] = field(default_factory=dict)
    """The household each of today's consultations (by its workload key) started or joined."""
    names: dict[str, str] = field(default_factory=dict)
    """Today's consultation and case ids by the workload's key: draws are keyed by these names, which are the
    same in every run of the seed (the ids are new each run), so that the same seed gives the same day."""
    _mail_seen: Counter[str] = field(default_factory=Counter)
    counters: Counters = field(default_factory=Counters)
    _seen: set[str] = field(default_factory=set)
    _meetings: set[str] = field(default_factory=set)
    _outreach: dict[str, str] = field(default_factory=dict)
    """Today's cases under an outreach plan, and the agency holding it."""
    _attempts: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    """Requests that met a transport error, by the error's name: each ended an agency's round (`work`)."""
    cases: set[str] = field(default_factory=set)
    """Today's cases. Staff answer only these: a machine that keeps its data holds earlier runs' and the
    fault suite's unanswered referrals, and answering all of them at once floods every inbox and mailbox."""

    def _name(self, some_id: str) -> str:
        return self.names.get(some_id, some_id)

    def _referral_name(self, referral: dict[str, Any]) -> str:
        """A referral named by what it is for: its consultation's (or, for a plan's role, its case's) workload key,
        the agency, and the attempt."""
        origin = self.names.get(referral["consultation_id"])
        if origin is None:
            origin = f"{self._name(referral['case_id'])}:{referral['routing_rule']}"
        return f"{origin}:{referral['to_agency']}:{referral['attempt']}"

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
        """One round: every agency looks at its inbox; staff read their mail; coordinators hold meetings.

        A request that meets a transport error (a kept-alive connection the server closed just as it was reused,
        a service restarting) ends that agency's part of the round, counted in `transport_errors`; it carries on
        in the next round, as an agency's system does on its next poll."""
        await asyncio.gather(*(self._on_next_round(self._answer_inbox(http, agency)) for agency in self.tokens))
        await self._on_next_round(self._read_mail(http))
        await asyncio.gather(*(self._on_next_round(self._convene(http, agency)) for agency in self.coordinators))
        await asyncio.gather(
            *(self._on_next_round(self._reach_out(http, case, holder)) for case, holder in list(self._outreach.items()))
        )

    async def _on_next_round(self, step: Awaitable[None]) -> None:
        try:
            await step
        except httpx.TransportError as error:
            self.transport_errors[type(error).__name__] += 1

    async def _answer_inbox(self, http: httpx.AsyncClient, agency: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[agency]}"}
        waiting = (await http.get(f"{self.urls['referral']}/v1/inbox", headers=headers)).json()
        for referral in waiting:
            key = referral["referral_id"]
            if key in self._seen or referral["case_id"] not in self.cases:
                continue
            self._seen.add(key)
            draw = self._draw(self._referral_name(referral))
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
                if referral["routing_rule"] == "participation":  # the person came to the place, and stays
                    await http.post(f"{url}/start", headers=headers)
                    await http.post(f"{url}/complete", headers=headers, json={"outcome": "resolved"})
            self.counters.answered += 1

    async def _read_mail(self, http: httpx.AsyncClient) -> None:
        for path in self._unread():
            message = mailbox.MaildirMessage(path.read_bytes())
            self._mark_read(path)
            if str(message["X-Backbone-Case"]) not in self.cases:
                continue
            found = ACK_LINK.search(body_text(message))
            name = f"{self._name(str(message['X-Backbone-Case']))}:{message['X-Backbone-Category']}:{message['To']}"
            self._mail_seen[name] += 1
            if found and self._draw(f"{name}:{self._mail_seen[name]}") < ACKNOWLEDGED:
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
        purpose = meeting.get("purpose") or "plan-confirmation"
        roles = self._roles(purpose, meeting)
        if roles:
            plan = {
                "goals": ["見守りを続ける" if purpose == "plan-confirmation" else "つながりを取り戻す"],
                "roles": roles,
                "review_on": (datetime.now(UTC) + timedelta(days=90)).date().isoformat(),
            }
            if (await http.post(f"{url}/plan", headers=headers, json=plan)).status_code == 201:
                self.counters.plans += 1
                if purpose == "outreach-plan":
                    self._outreach[meeting["case_id"]] = roles[0]["agency"]
        share = {"participation-plan": SHARE_PARTICIPATION, "outreach-plan": SHARE_OUTREACH}
        following = NEXT_PURPOSE.get(purpose)
        if following and self._draw(f"{following}:{self._name(meeting['case_id'])}") < share[following]:
            body = {
                "case_id": meeting["case_id"],
                "kind": meeting["kind"],
                "purpose": following,
                "participants": meeting["participants"],
            }
            await http.post(f"{self.urls['meetings']}/v1/meetings", headers=headers, json=body)

    def _roles(self, purpose: str, meeting: dict[str, Any]) -> list[dict[str, str]]:
        """The plan a meeting of this purpose decides (none for a conference)."""
        others = [agency for agency in meeting["participants"] if agency != meeting["organizer"]]
        if purpose == "plan-confirmation":
            return [{"agency": agency, "responsibility": "monitoring", "domain": "elderly"} for agency in others][:2]
        if purpose == "participation-plan":
            place = next(iter(self.places.get(self.district_of.get(meeting["case_id"], ""), [])), None)
            if place is None:
                return []
            return [{"agency": place, "responsibility": "participation", "domain": "withdrawal"}]
        if purpose == "outreach-plan":
            csw = next((agency for agency in meeting["participants"] if agency.startswith("csw-")), None)
            holder = csw or meeting["organizer"]  # バックアップふじさわ(社協) holds it when no CSW sat
            return [{"agency": holder, "responsibility": "outreach", "domain": "withdrawal"}]
        return []

    async def _reach_out(self, http: httpx.AsyncClient, case_id: str, holder: str) -> None:
        """One round of the outreach worker: an attempt, and once reached, contact and consent (seeded)."""
        headers = {"Authorization": f"Bearer {self.tokens[holder]}"}
        url = f"{self.urls['referral']}/v1/outreach"
        engagements = (await http.get(url, headers=headers, params={"case_id": case_id})).json()
        for engagement in engagements if isinstance(engagements, list) else []:
            if engagement["ended_at"] is not None or engagement["consent_at"] is not None:
                self._outreach.pop(case_id, None)
                continue
            step = f"{url}/{engagement['outreach_id']}"
            self._attempts[case_id] += 1
            reached = self._draw(f"reached:{self._name(case_id)}:{self._attempts[case_id]}") < REACHED
            attempt = {"method": "visit", "result": "brief-contact" if reached else "no-answer"}
            await http.post(f"{step}/attempts", headers=headers, json=attempt)
            if self._attempts[case_id] >= ATTEMPTS_A_DAY and not reached:
                self._outreach.pop(case_id, None)  # tried enough for one day: the engagement goes on tomorrow
            if reached:
                await http.post(f"{step}/contact", headers=headers)
                if self._draw(f"consents:{self._name(case_id)}") < CONSENTS:
                    await http.post(f"{step}/consent", headers=headers)
                self._outreach.pop(case_id, None)


def body_text(message: mailbox.MaildirMessage) -> str:
    """The text part of a notification e-mail (the .ics, when there is one, is an attachment)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(errors="replace") if isinstance(payload, bytes) else ""
    return ""

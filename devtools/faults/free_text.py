"""The leak scan's free-text canaries: words carrying the run's marker, written by agencies into every
free-text field they have, as a careless person would type a name there.

The fields (each an agency's own words beside a code):

| field | written by | kept in |
|---|---|---|
| a referral's decline `note` | the referred centre | referral's `referrals` |
| a referral's cancellation `note` | the referring counter | referral's `referrals` |
| a meeting request's `note` | the counter that took the consultation | meetings' `meetings` |
| a meeting cancellation's `note` | its organizer | meetings' `meetings` |
| a support plan's `goals` | the meeting's organizer | meetings' `plans` |
| an outreach contact attempt's `note` | the engagement's holder | referral's `outreach_attempts` |
| an outreach engagement's ending `note` | the engagement's holder | referral's `outreach` |

They may be in those tables and in the answers to the agencies that may read them; never in a topic, a
log, a span or an e-mail. Each needs a case of its own: `CASES_NEEDED` of the scan's canary cases, whose
consent covers community support centres for case meetings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from backbone.settings import ServiceName
from devtools.faults.needles import spelled
from devtools.local.stack import LocalStack

COUNTER = "chiku-fukushi-zengyo"  # took the canary consultations in
CENTRE = "ikiiki-zengyo"  # the community support centre they are referred to
OUTREACH_HOLDER = "backup-fujisawa-shakyo"  # a coordinator: it may open outreach on any case
CASES_NEEDED = 4
KEPT_IN: tuple[tuple[ServiceName, str], ...] = (
    ("referral", "referrals"),
    ("meetings", "meetings"),
    ("meetings", "plans"),
    ("referral", "outreach_attempts"),
    ("referral", "outreach"),
)
LABELS = ("辞退メモ", "取消メモ", "会議依頼メモ", "会議中止メモ", "支援目標", "接触メモ", "終了メモ")
FIELDS = len(LABELS) + 1  # the second meeting's request note too


def texts(marker: str) -> dict[str, str]:
    return {label: f"{label}{marker} 金成さん宅" for label in LABELS}


def needles(marker: str) -> list[bytes]:
    return spelled(f"{label}{marker}" for label in LABELS)


async def plant(
    stack: LocalStack, http: httpx.AsyncClient, tokens: Mapping[str, str], marker: str, cases: list[UUID]
) -> int:
    """Write a canary into every free-text field; returns how many were accepted (`FIELDS` when all were)."""
    if len(cases) < CASES_NEEDED:
        raise ValueError(f"the free-text canaries need {CASES_NEEDED} canary cases; run the scan with more")
    words = texts(marker)
    counter = {"Authorization": f"Bearer {tokens[COUNTER]}"}
    centre = {"Authorization": f"Bearer {tokens[CENTRE]}"}
    referral, meetings = stack.base_url("referral"), stack.base_url("meetings")
    declined, cancelled = await _referrals(http, referral, centre, cases[:2])
    answers = [
        await http.post(
            f"{referral}/v1/referrals/{declined}/decline",
            headers=centre,
            json={"reason": "other", "note": words["辞退メモ"]},
        ),
        await http.post(
            f"{referral}/v1/referrals/{cancelled}/cancel",
            headers=counter,
            json={"reason": "other", "note": words["取消メモ"]},
        ),
    ]
    requested = [
        await http.post(
            f"{meetings}/v1/meetings",
            headers=counter,
            json={
                "case_id": str(case),
                "kind": "consent-based",
                "participants": [CENTRE],
                "note": words["会議依頼メモ"],
            },
        )
        for case in cases[2:4]
    ]
    answers += requested
    called_off, convened = (answer.json().get("meeting_id") for answer in requested)
    answers.append(
        await http.post(
            f"{meetings}/v1/meetings/{called_off}/cancel",
            headers=counter,
            json={"reason": "other", "note": words["会議中止メモ"]},
        )
    )
    answers.append(await _plan(http, f"{meetings}/v1/meetings/{convened}", counter, words["支援目標"]))
    answers += await _outreach(http, referral, {"Authorization": f"Bearer {tokens[OUTREACH_HOLDER]}"}, cases[0], words)
    return sum(answer.is_success for answer in answers)


async def _outreach(
    http: httpx.AsyncClient, url: str, holder: dict[str, str], case: UUID, words: dict[str, str]
) -> list[httpx.Response]:
    """Open an outreach engagement on the case, record an attempt with a note, and end it with a note."""
    opened = await http.post(f"{url}/v1/outreach", headers=holder, json={"case_id": str(case)})
    if not opened.is_success:
        return [opened, opened]
    engagement = f"{url}/v1/outreach/{opened.json()['outreach_id']}"
    attempt = {"method": "visit", "result": "no-answer", "note": words["接触メモ"]}
    return [
        await http.post(f"{engagement}/attempts", headers=holder, json=attempt),
        await http.post(f"{engagement}/end", headers=holder, json={"ending": "other", "note": words["終了メモ"]}),
    ]


async def _referrals(http: httpx.AsyncClient, url: str, centre: dict[str, str], cases: list[UUID]) -> list[str]:
    """The referrals of `cases` in the centre's inbox, in the cases' order (waiting for routing to propose them)."""
    deadline = time.monotonic() + 60
    while True:
        inbox: list[dict[str, Any]] = (await http.get(f"{url}/v1/inbox", headers=centre)).json()
        found = {UUID(item["case_id"]): item["referral_id"] for item in inbox}
        if all(case in found for case in cases):
            return [found[case] for case in cases]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{CENTRE} was not proposed the canary cases' referrals within 60 s")
        await asyncio.sleep(0.5)


async def _plan(http: httpx.AsyncClient, meeting: str, organizer: dict[str, str], goal: str) -> httpx.Response:
    """Hold the meeting (convened at short notice) and confirm its plan, whose goals are free text."""
    held = await http.post(
        f"{meeting}/held", headers=organizer, json={"at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat()}
    )
    if not held.is_success:
        return held
    plan = {
        "goals": [goal],
        "roles": [{"agency": CENTRE, "responsibility": "monitoring", "domain": "elderly"}],
        "review_on": (datetime.now(UTC) + timedelta(days=90)).date().isoformat(),
    }
    return await http.post(f"{meeting}/plan", headers=organizer, json=plan)

"""The main job's scenario: one consultation followed through intake, referral and notify.

It uses only the public HTTP APIs, exactly as an agency system would. (The simulated day of the
main-job issue grows out of this.)
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from devtools.local.operators import issue_agency_token
from devtools.local.stack import LocalStack
from schemas.vocabulary import AgencyType

AGENCY = "chiku-fukushi-zengyo"
CONSULTATION = {
    # A phone call to the district welfare counter (地区福祉窓口) of 善行 about an older resident, who
    # agrees that the district's いきいきサポートセンター may see her details. (A fictional person.)
    "receiving_agency": AGENCY,
    "staff_id": "zengyo-017",
    "channel": "phone",
    "district": "zengyo",
    "domains": ["elderly"],
    "urgency": "normal",
    "personal": {
        "summary": "一人暮らし。最近物忘れが増え、買い物に困っていると民生委員から連絡。",
        "person": {"family_name": "善行", "given_name": "はな", "birth_date": "1941-05-05"},
    },
    "consent": {
        "scope": {"agency_types": ["community-support-centre"]},
        "purposes": ["support", "referral"],
        "method": "verbal",
    },
}


def follow_one_consultation(stack: LocalStack, *, within: float = 60.0) -> int:
    token = issue_agency_token(stack, AGENCY, AgencyType.DISTRICT_WELFARE_COUNTER)
    earlier_mail = stack.mail.names()
    began = time.monotonic()
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        print("\n相談受付 / consultation: submitting to intake …")
        answer = http.post(
            f"{stack.base_url('intake')}/v1/consultations",
            json=CONSULTATION,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        answer.raise_for_status()
        accepted = answer.json()
        case_id = accepted["case_id"]
        _show("case / ケース", f"{case_id} ({'new case' if accepted['new_case'] else 'joined her open case'})")
        _show("consultation / 相談", accepted["consultation_id"])
        # The person may have consulted before (then the consultation joins her open case): follow this one.
        referral = _first(
            http,
            f"{stack.base_url('referral')}/v1/referrals",
            case_id,
            began + within,
            lambda row: row["consultation_id"] == accepted["consultation_id"],
        )
        notification = referral and _first(
            http,
            f"{stack.base_url('notify')}/v1/notifications",
            case_id,
            began + within,
            lambda row: row["cause_event_id"] == referral["event_id"],
        )
    if referral is None or notification is None:
        print(f"\nThe consultation did not reach {'referral' if referral is None else 'notify'} within {within:.0f}s.")
        print("Check `backbone status` and the service logs it names.")
        return 1
    _show(
        "referral / つなぎ",
        f"{referral['referral_id']} → {referral['to_agency']} (rule {referral['routing_rule']}, "
        f"respond by {_tokyo(referral['respond_by'])})",
    )
    _show_mail(stack, notification, within, earlier_mail)
    _show(
        "notification / 通知",
        f"{notification['notification_id']} → {notification['recipient_agency']} "
        f"({notification['recipient_role']}, via {notification['channel']})",
    )
    _show_disclosure(stack, accepted["person_id"])
    _show_acceptance(stack, referral)
    traces = {accepted["trace_id"], referral["trace_id"], notification["trace_id"]}
    _show("trace id / トレースID", ", ".join(sorted(t or "-" for t in traces)))
    verdict = "one trace spans intake, referral and notify" if len(traces) == 1 else "TRACE BROKEN"
    print(f"\n{verdict}; end to end in {time.monotonic() - began:.2f}s")
    _show_audit_trace(stack, referral["referral_id"], within)
    climbed = follow_an_unanswered_urgent_case(stack, within=within)
    meeting_ok = follow_a_multi_agency_case(stack, within=within)
    return 0 if len(traces) == 1 and meeting_ok and climbed else 1


def _show_audit_trace(stack: LocalStack, referral_id: str, within: float) -> None:
    """The referral end to end as the audit ledger holds it (what `backbone trace` prints)."""
    from devtools.local import auditing  # noqa: PLC0415

    deadline = time.monotonic() + within
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not any(row["what"] == "受諾" for row in rows):
        _, rows = auditing.trace(stack, referral_id, language="ja")
        time.sleep(0.5)
    print(f"\n監査 / audit: backbone trace {referral_id}")
    for row in rows:
        why = f"  ({row['why']})" if row["why"] else ""
        print(f"  {row['time']}  {row['what']}{' ' * max(1, 18 - 2 * len(row['what']))}{row['who']}{why}")


def follow_an_unanswered_urgent_case(stack: LocalStack, *, within: float) -> bool:
    """An urgent call at night: nobody on call acknowledges, so the notification climbs to the supervisor."""
    print("\n至急 / urgent: a call nobody on call acknowledges …")
    token = issue_agency_token(stack, "chiku-fukushi-tsujido", AgencyType.DISTRICT_WELFARE_COUNTER)
    answer = httpx.post(
        f"{stack.base_url('intake')}/v1/consultations",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "receiving_agency": "chiku-fukushi-tsujido",
            "staff_id": "t-night",
            "channel": "phone",
            "district": "tsujido",
            "domains": ["mental-health"],
            "urgency": "urgent",
        },
    )
    answer.raise_for_status()
    case_id = answer.json()["case_id"]
    deadline = time.monotonic() + within
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not any(r["recipient_role"] == "supervisor" for r in rows):
        rows = httpx.get(  # as the counter that took the call: it is involved in the case
            f"{stack.base_url('notify')}/v1/notifications",
            params={"case_id": case_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        time.sleep(0.5)
    for row in rows:
        _show(
            f"notified / 通知 ({row['recipient_role']})",
            f"{row['recipient_agency']} via {row['channel']}: {row['state']}",
        )
    climbed = any(r["recipient_role"] == "supervisor" for r in rows)
    if not climbed:
        print("  the notification did not climb in time (services started by `backbone up` keep real time)")
    return climbed


EIGHT_FIFTY = {
    # An 8050 household found on an outreach visit by the 鵠沼 CSW: an ageing mother and a son withdrawn for
    # years. Both agree that the programme's agencies may meet about them. (A fictional household.)
    "receiving_agency": "csw-kugenuma",
    "staff_id": "csw-k-03",
    "channel": "outreach",
    "district": "kugenuma",
    "domains": ["elderly", "withdrawal", "8050"],
    "personal": {"summary": "母親(80代)の介護と、長年ひきこもりの息子(50代)。", "person": {"family_name": "鵠沼"}},
    "consent": {
        "scope": {"all_programme_agencies": True},
        "purposes": ["support", "case-meeting"],
        "method": "written",
    },
}


PLAN = {
    "goals": ["母親の介護負担を減らす", "息子が週1回地域の縁側に通う"],
    "review_on": (datetime.now(UTC) + timedelta(days=90)).date().isoformat(),
    "roles": [
        {"agency": "ikiiki-kugenuma", "responsibility": "carer-support", "domain": "elderly"},
        {"agency": "csw-kugenuma", "responsibility": "participation", "domain": "withdrawal"},
    ],
}


def follow_a_multi_agency_case(stack: LocalStack, *, within: float) -> bool:
    """A case for several agencies: coordination, a lawful 重層的支援会議 proposed, scheduled, invited to,
    held, and its support plan's roles referred to their agencies."""
    print("\n多機関協働 / multi-agency case: an 8050 household …")
    csw = issue_agency_token(stack, "csw-kugenuma", AgencyType.DISTRICT_CSW)
    coordinator = issue_agency_token(stack, "backup-fujisawa-shakyo", AgencyType.SELF_RELIANCE_COUNCIL)
    with httpx.Client(timeout=10) as http:
        answer = http.post(
            f"{stack.base_url('intake')}/v1/consultations",
            json=EIGHT_FIFTY,
            headers={"Authorization": f"Bearer {csw}", "Idempotency-Key": str(uuid.uuid4())},
        )
        answer.raise_for_status()
        case_id = answer.json()["case_id"]
        _show("case / ケース", case_id)
        meetings = httpx.Client(
            base_url=stack.base_url("meetings"), headers={"Authorization": f"Bearer {coordinator}"}, timeout=10
        )
        deadline = time.monotonic() + within
        proposal = None
        while proposal is None and time.monotonic() < deadline:
            found = meetings.get("/v1/meetings", params={"case_id": case_id}).json()
            proposal = found[0] if found else None
            time.sleep(0.2)
        if proposal is None:
            print("  no meeting was proposed; check `backbone status` and the meetings log")
            return False
        _show(
            "meeting / 会議",
            f"{proposal['kind']} proposed for {', '.join(proposal['participants'])} (reason {proposal['reason']})",
        )
        scheduled = meetings.post(f"/v1/meetings/{proposal['meeting_id']}/schedule", json={}).json()
        _show("scheduled / 日程", f"{_tokyo(scheduled['starts_at'])} (sequence {scheduled['sequence']})")
        ics = meetings.get(f"/v1/meetings/{proposal['meeting_id']}/invitation.ics").text
        summary = next(line for line in ics.splitlines() if line.startswith("SUMMARY"))
        _show("invitation / 招待 (.ics)", summary.removeprefix("SUMMARY:"))
        # The household cannot wait for the date: the coordinator convenes the agencies at short notice.
        held = meetings.post(
            f"/v1/meetings/{proposal['meeting_id']}/held",
            json={"at": (datetime.now(UTC) - timedelta(minutes=45)).isoformat()},
        )
        _show("held / 開催", "at short notice (緊急開催)" if held.status_code == 200 else f"refused: {held.text}")
        plan = meetings.post(f"/v1/meetings/{proposal['meeting_id']}/plan", json=PLAN).json()
        _show(
            "support plan / 支援プラン",
            f"{plan.get('plan_id')} — {len(PLAN['roles'])} roles, review {PLAN['review_on']}",
        )
        referral_api = httpx.Client(
            base_url=stack.base_url("referral"), headers={"Authorization": f"Bearer {coordinator}"}, timeout=10
        )
        roles: list[dict[str, Any]] = []
        while len(roles) < len(PLAN["roles"]) and time.monotonic() < deadline:
            rows = referral_api.get("/v1/referrals", params={"case_id": case_id}).json()
            roles = [row for row in rows if row["routing_rule"] == "support-plan"]
            time.sleep(0.2)
        for row in roles:
            _show(
                "plan referral / つなぎ", f"{row['referral_id']} → {row['to_agency']} ({row['reason'].split(': ')[-1]})"
            )
    return len(roles) == len(PLAN["roles"])


def _show_mail(stack: LocalStack, notification: dict[str, Any], within: float, earlier: set[str]) -> None:
    """The notification as it arrived by e-mail at the local mail catcher (a real SMTP server). Only mail that
    arrived since the walkthrough began is read: a machine that keeps its data keeps every earlier message."""
    wanted = f"<{notification['notification_id']}@fujisawa-backbone>"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [m for m in stack.mail.arrived(earlier) if m["Message-ID"] == wanted]
        if found:
            _show(
                "e-mail / メール", f"to {found[0]['To']} ({found[0]['X-Backbone-Category']}), in {stack.mail.maildir}"
            )
            return
        time.sleep(0.2)
    _show("e-mail / メール", "not yet delivered (see `backbone status` and the notify log)")


def _show_acceptance(stack: LocalStack, referral: dict[str, Any]) -> None:
    """The centre answers the referral from its inbox: it takes the case and becomes its lead agency (主担当)."""
    token = issue_agency_token(stack, referral["to_agency"], AgencyType.COMMUNITY_SUPPORT_CENTRE)
    with httpx.Client(
        base_url=stack.base_url("referral"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as centre:
        waiting = [row["referral_id"] for row in centre.get("/v1/inbox").json()]
        answer = centre.post(f"/v1/referrals/{referral['referral_id']}/accept")
    state = answer.json().get("state", answer.status_code)
    _show("inbox / 受付箱", f"{len(waiting)} referral(s) waiting at {referral['to_agency']}")
    _show("accepted / 受諾", f"{state}: {referral['to_agency']} is the case's lead agency (主担当)")


def _show_disclosure(stack: LocalStack, person_id: str) -> None:
    """The referred centre may read her details (consent covers its type); an agency outside it may not."""
    for agency, kind in (
        ("ikiiki-zengyo", AgencyType.COMMUNITY_SUPPORT_CENTRE),
        ("backup-fujisawa", AgencyType.SELF_RELIANCE),
    ):
        token = issue_agency_token(stack, agency, kind)
        answer = httpx.get(
            f"{stack.base_url('intake')}/v1/persons/{person_id}",
            params={"purpose": "support"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        outcome = "shown (consent covers it)" if answer.status_code == 200 else f"refused ({answer.status_code})"
        _show(f"disclosure / 開示 → {agency}", outcome)


def _first(
    http: httpx.Client, url: str, case_id: str, deadline: float, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    while time.monotonic() < deadline:
        answer = http.get(url, params={"case_id": case_id})
        # 404 until the service has read the consultation and knows the agency is involved: keep asking.
        rows: list[dict[str, Any]] = answer.json() if answer.status_code == 200 else []
        found = [row for row in rows if wanted(row)]
        if found:
            return found[0]
        time.sleep(0.1)
    return None


def _tokyo(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M JST")


def _show(label: str, value: str) -> None:
    # Japanese characters take two columns in a terminal; pad by display width, not by length.
    width = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in label)
    print(f"  {label}{' ' * max(1, 36 - width)}{value}")

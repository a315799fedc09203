"""The main job's scenario: one consultation followed through intake, referral and notify.

It uses only the public HTTP APIs, exactly as an agency system would. (The simulated day of the
main-job issue grows out of this.)
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from typing import Any

import httpx

from backbone.local.stack import LocalStack

CONSULTATION = {
    # A phone call to the district welfare counter (地区福祉窓口) of 善行 about an older resident:
    # referred to the district's いきいきサポートセンター.
    "receiving_agency": "chiku-fukushi-zengyo",
    "channel": "phone",
    "district": "zengyo",
    "domains": ["elderly"],
    "urgency": "normal",
}


def follow_one_consultation(stack: LocalStack, *, within: float = 60.0) -> int:
    began = time.monotonic()
    with httpx.Client(timeout=10) as http:
        print("\n相談受付 / consultation: submitting to intake …")
        answer = http.post(
            f"{stack.base_url('intake')}/v1/consultations",
            json=CONSULTATION,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        answer.raise_for_status()
        accepted = answer.json()
        case_id = accepted["case_id"]
        _show("case / ケース", case_id)
        _show("consultation / 相談", accepted["consultation_id"])
        referral = _first(http, f"{stack.base_url('referral')}/v1/referrals", case_id, began + within)
        notification = _first(http, f"{stack.base_url('notify')}/v1/notifications", case_id, began + within)
    if referral is None or notification is None:
        print(f"\nThe consultation did not reach {'referral' if referral is None else 'notify'} within {within:.0f}s.")
        print("Check `backbone status` and the service logs it names.")
        return 1
    _show("referral / つなぎ", f"{referral['referral_id']} → {referral['to_agency']} (rule {referral['routing_rule']}, "
          f"respond by {referral['respond_by']})")  # fmt: skip
    _show("notification / 通知", f"{notification['notification_id']} → {notification['recipient_agency']} "
          f"({notification['recipient_role']}, via {notification['channel']})")  # fmt: skip
    traces = {accepted["trace_id"], referral["trace_id"], notification["trace_id"]}
    _show("trace id / トレースID", ", ".join(sorted(t or "-" for t in traces)))
    verdict = "one trace spans intake, referral and notify" if len(traces) == 1 else "TRACE BROKEN"
    print(f"\n{verdict}; end to end in {time.monotonic() - began:.2f}s")
    return 0 if len(traces) == 1 else 1


def _first(http: httpx.Client, url: str, case_id: str, deadline: float) -> dict[str, Any] | None:
    while time.monotonic() < deadline:
        rows: list[dict[str, Any]] = http.get(url, params={"case_id": case_id}).json()
        if rows:
            return rows[0]
        time.sleep(0.1)
    return None


def _show(label: str, value: str) -> None:
    # Japanese characters take two columns in a terminal; pad by display width, not by length.
    width = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in label)
    print(f"  {label}{' ' * max(1, 26 - width)}{value}")

"""The main job: a day in Fujisawa, compressed into minutes, through the whole backbone.

The workload is submitted to intake on schedule, the simulated agencies answer through the public APIs,
a consumer of the topics keeps the live display, and at the end come the summary, the audit trace of a
multi-agency case, and a picture of the day.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

import httpx

from backbone import directory
from devtools.local.auditing import trace
from devtools.local.operators import issue_agency_tokens, restore_directory_defaults
from devtools.local.postgres import LocalSecrets
from devtools.local.realm import demo_logins
from devtools.local.stack import NO_QUIET_HOURS, LocalStack
from devtools.simulation import report, watch, workload
from devtools.simulation.agencies import Agencies

PACING = {
    # The day is compressed: urgent deadlines and acknowledgement windows shrink to seconds so that overdue
    # referrals and escalations happen within the run. Normal deadlines stay in business days.
    "BACKBONE_REFERRAL__URGENT_HOURS": "0.01",
    "BACKBONE_REFERRAL__URGENT_ESCALATION_HOURS": "0.005",
    "BACKBONE_NOTIFY__ACK_URGENT_MINUTES": "0.15",
    "BACKBONE_NOTIFY__ACK_NORMAL_MINUTES": "0.5",
} | NO_QUIET_HOURS


DAY_GUIDE = "ikiiki-katase"
"""The demo staff member the day's end suggests: a centre's, with referrals of the day in its inbox and cases."""


def run_day(stack: LocalStack, *, consultations: int, minutes: float, seed: int, out: Path) -> int:
    return asyncio.run(_run(stack, consultations=consultations, minutes=minutes, seed=seed, out=out))


async def _run(stack: LocalStack, *, consultations: int, minutes: float, seed: int, out: Path) -> int:
    loaded = directory.load()
    day = workload.generate(loaded, seed=seed, count=consultations, day_seconds=minutes * 60)
    tokens, urls, agencies = await simulated_agencies(stack, loaded, seed)
    consumer, _ = await watch.watch(stack.kafka.bootstrap_servers)
    tally = watch.Tally(cases=agencies.cases)
    print(f"\n藤沢の一日 / a day in Fujisawa: {consultations} consultations over {minutes:g} minutes (seed {seed})\n")
    began = time.monotonic()
    submitted = 0
    live = sys.stdout.isatty()
    async with httpx.AsyncClient(timeout=15) as http:
        pending = list(day)
        settle_until = None
        last_line = 0.0
        while True:
            now = time.monotonic() - began
            while pending and pending[0].at <= now:
                item = pending.pop(0)
                submitted += await submit(http, f"{urls['intake']}/v1/consultations", tokens, item, agencies)
            await agencies.work(http)
            await watch.drain(consumer, tally)
            if live or now - last_line > 5:
                print(("\r" if live else "") + f"[{now:5.0f}s] " + tally.line(), end="" if live else "\n", flush=True)
                last_line = now
            if not pending and settle_until is None:
                settle_until = now + 45  # let the last referrals, escalations and meetings run their course
            if settle_until is not None and now > settle_until:
                break
            await asyncio.sleep(0.5)
    await consumer.stop()
    print(
        "\n\n"
        + "\n".join(f"  {label:<44} {value:>6}" for label, value in report.table(tally, agencies.counters, submitted))
    )
    if tally.multi_agency_case:
        kind, rows = await asyncio.to_thread(trace, stack, tally.multi_agency_case, language="ja")
        print(f"\n監査 / audit trace of a multi-agency case ({kind} {tally.multi_agency_case}):")
        for row in rows:
            why = f"  ({row['why']})" if row["why"] else ""
            print(f"  {row['time']}  {row['what']}{' ' * max(1, 24 - 2 * len(row['what']))}{row['who']}{why}")
    png, page = report.picture(tally, out)
    print(f"\npicture of the day: {png}\n                    {page}")
    # The stack stays up: the day's cases can be clicked through in the workbench, as a centre's staff would.
    passwords = LocalSecrets.load_or_create(stack.paths.secrets).demo_staff_passwords
    print("\n" + "\n".join(demo_logins(passwords, DAY_GUIDE)))
    print("\n  ほかのデモ職員 / the other demo staff: backbone demo-login;  止める / stop: backbone down")
    return 0 if tally.count("consultation.received") == submitted == consultations else 1


async def simulated_agencies(
    stack: LocalStack, loaded: directory.Directory, seed: int
) -> tuple[dict[str, str], dict[str, str], Agencies]:
    """The simulated agencies, each with a token, and the services' URLs. Every agency is routable and reachable
    by e-mail, whatever earlier runs (tests, the fuzzer) registered."""
    tokens = await asyncio.to_thread(issue_agency_tokens, stack, [(a.id, a.type) for a in loaded.agencies.values()])
    urls = {service: stack.base_url(service) for service in ("intake", "referral", "meetings", "notify")}
    await restore_directory_defaults(lambda s: httpx.AsyncClient(base_url=urls[s], timeout=30), tokens)
    places = {str(d): [p.id for p in loaded.places() if d in p.districts] for d in loaded.districts}
    agencies = Agencies(tokens, {a.id for a in loaded.coordinators()}, urls, stack.mail.maildir, seed, places)
    agencies.skip_earlier_mail()
    return tokens, urls, agencies


async def submit(
    http: httpx.AsyncClient, url: str, tokens: dict[str, str], item: workload.Consultation, agencies: Agencies
) -> bool:
    """Submit one consultation as its agency; today's cases and households are kept from the answer."""
    body = item.body
    started = agencies.households.get(item.household_of) if item.household_of else None
    if started is not None:  # the household the parent's consultation started (else the child's starts one)
        body = body | {"household": body["household"] | {"household_id": started}}
    answer = await http.post(
        url,
        json=body,
        headers={"Authorization": f"Bearer {tokens[item.agency]}", "Idempotency-Key": uuid.uuid4().hex},
    )
    if answer.status_code not in (200, 201):
        return False
    accepted = answer.json()
    agencies.cases.add(accepted["case_id"])
    agencies.names[accepted["consultation_id"]] = item.key
    agencies.names.setdefault(accepted["case_id"], item.key)  # a case is named by the consultation that opened it
    agencies.district_of[accepted["case_id"]] = body["district"]
    agencies.households[item.key] = accepted.get("household_id")
    return True

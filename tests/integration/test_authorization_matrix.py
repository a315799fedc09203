"""The authorization matrix, generated from the OpenAPI document each running service serves.

Every operation of every service must have a rule below; an operation added later without one fails
`test_every_operation_has_an_authorization_rule`, and a rule whose operation is gone fails it too. Each
rule says how the operation authenticates and who is entitled, and the matrix tries every operation:

- with no credentials, and with a wrong token (or link token, or signature): refused;
- by every agency of the directory not involved in the object's case (need to know,
  `backbone/involvement.py`): refused, with the same problem answer as for an object that does not exist;
- by an involved (entitled) agency: let through (2xx, or 409 when the object's state forbids the step,
  which is decided after authorization).

Rules:
- `Public`: answers anyone, and says why (health, readiness, the auditors' page shell, a public key);
- `Case`: a bearer token, and the agency must be involved in the case (or, stricter, own the object);
- `Own`: a bearer token, and the answer is the calling agency's own data only (its inbox, roster,
  capacity, its own submissions), so any agency is let through, on its own behalf;
- `Auditor`: a bearer token of the auditor role; every agency is refused;
- `Link` and `Signed`: notify's acknowledgement by the link's token, or by a webhook-signed request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backbone import directory
from backbone.ratelimit import AgencyLimiter
from backbone.settings import ServiceName
from schemas.topics import INTAKE_SUBMISSIONS, REFERRAL_RESPONSES
from schemas.vocabulary import AgencyType
from services.notify import channels
from services.notify.deliveries import Notifier
from services.notify.rosters import default_roster
from tests.integration.ingress import ce_id, sealed_submission, signed_action
from tests.integration.kafka_tools import eventually, produce
from tests.integration.services import SKELETON, RunningServices
from tests.integration.test_ingress import FACTS as FACT_SHEET
from tests.integration.test_ingress_outcomes import readable
from tests.integration.test_meetings import consent_based_proposal
from tests.integration.test_notify import consult as urgent_consultation
from tests.integration.test_notify import deliveries
from tests.integration.test_referral_loop import open_referral

AGENCIES = directory.load().agencies
COORDINATORS = frozenset(agency.id for agency in directory.load().coordinators())
REFUSED = {403, 404}
LET_THROUGH = {200, 201, 204, 409}
Operation = tuple[ServiceName, str, str]  # (service, METHOD, path template)


@dataclass
class World:
    """One case of each kind the operations act on, with the agencies involved in each."""

    katase_case: str
    referral: dict[str, Any]
    notification: dict[str, Any]
    ack_token: str
    kugenuma_case: str
    person_id: str
    consultation_id: str
    meeting: dict[str, Any]
    consent_id: str
    submission_id: str = ""  # an ingress submission's ce_id, readable by its submitter only
    action_id: str = ""  # an ingress action's ce_id, likewise
    outreach_id: str = ""  # an outreach engagement of the Katase case, held by 社協 with the Katase CSW
    involved: dict[str, frozenset[str]] = field(default_factory=dict)  # case id -> involved agencies


@dataclass(frozen=True)
class Call:
    path: str
    actor: str  # the entitled agency that makes the call
    case_id: str = ""  # whose involvement decides; empty: no case (Own, Auditor)
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Public:
    why: str
    path: str


@dataclass(frozen=True)
class Case:
    call: Callable[[World], Call]


@dataclass(frozen=True)
class Own:
    call: Callable[[World], Call]


@dataclass(frozen=True)
class Auditor:
    path: str


@dataclass(frozen=True)
class Link:
    call: Callable[[World], Call]


@dataclass(frozen=True)
class Signed:
    call: Callable[[World], Call]


Rule = Public | Case | Own | Auditor | Link | Signed

HEALTH = {
    (service, "GET", path): Public("probes of the operators' orchestrator", path)
    for service in SKELETON
    for path in ("/health", "/ready")
}
PLAN = {
    "goals": ["g"],
    "roles": [{"agency": "ikiiki-kugenuma", "responsibility": "lead", "domain": "elderly"}],
    "review_on": "2027-04-01",
}
KUGENUMA_COUNTER = "chiku-fukushi-kugenuma"
KATASE_COUNTER = "chiku-fukushi-katase"
KATASE_CSW = "csw-katase"  # the Katase case's outreach partner
SUBMITTER, SUBMISSION = KATASE_COUNTER, "the submission"  # whose ingress records: only the sender reads them
ACTOR, ACTION = "ikiiki-endo", "the action"


def _referral(action: str, body: Any = None, *, by: str = "") -> Case:
    return Case(
        lambda w: Call(
            f"/v1/referrals/{w.referral['referral_id']}/{action}",
            by or w.referral["to_agency"],
            w.katase_case,
            body=body,
        )
    )


def _outreach(suffix: str, body: Any = None) -> Case:
    return Case(lambda w: Call(f"/v1/outreach/{w.outreach_id}{suffix}", KATASE_CSW, w.katase_case, body=body))


def _meeting(suffix: str, body: Any = None, method_actor: str = "organizer") -> Case:
    return Case(
        lambda w: Call(
            f"/v1/meetings/{w.meeting['meeting_id']}{suffix}", w.meeting[method_actor], w.kugenuma_case, body=body
        )
    )


# In order: the entitled calls of one object run in this order (accept before start before complete).
RULES: dict[Operation, Rule] = {
    **HEALTH,
    # intake
    ("intake", "POST", "/v1/consultations"): Own(
        lambda w: Call(
            "/v1/consultations",
            KATASE_COUNTER,
            body={
                "receiving_agency": KATASE_COUNTER,
                "staff_id": "a-1",
                "channel": "phone",
                "district": "katase",
                "domains": ["elderly"],
                "personal": {"person": {"family_name": f"行列{uuid.uuid4().hex[:4]}"}},
            },
        )
    ),
    ("intake", "GET", "/v1/submissions/{submission_id}"): Case(
        lambda w: Call(f"/v1/submissions/{w.submission_id}", SUBMITTER, SUBMISSION)
    ),
    ("intake", "GET", "/v1/keys/submission"): Public(
        "the public key agencies seal submissions with", "/v1/keys/submission"
    ),
    ("intake", "GET", "/v1/persons/{person_id}"): Case(
        lambda w: Call(f"/v1/persons/{w.person_id}", "ikiiki-kugenuma", w.kugenuma_case, {"purpose": "support"})
    ),
    ("intake", "GET", "/v1/consultations/{consultation_id}"): Case(
        lambda w: Call(
            f"/v1/consultations/{w.consultation_id}", "ikiiki-kugenuma", w.kugenuma_case, {"purpose": "support"}
        )
    ),
    ("intake", "POST", "/v1/persons/{person_id}/consents"): Case(
        lambda w: Call(
            f"/v1/persons/{w.person_id}/consents",
            KUGENUMA_COUNTER,
            w.kugenuma_case,
            body={"scope": {"agencies": ["ikiiki-kugenuma"]}, "purposes": ["support"], "method": "verbal"},
        )
    ),
    # referral
    ("referral", "GET", "/v1/referrals"): Case(
        lambda w: Call("/v1/referrals", KATASE_COUNTER, w.katase_case, {"case_id": w.katase_case})
    ),
    ("referral", "GET", "/v1/referrals/{referral_id}"): Case(
        lambda w: Call(f"/v1/referrals/{w.referral['referral_id']}", KATASE_COUNTER, w.katase_case)
    ),
    ("referral", "POST", "/v1/referrals/{referral_id}/accept"): _referral("accept"),
    ("referral", "POST", "/v1/referrals/{referral_id}/start"): _referral("start"),
    ("referral", "POST", "/v1/referrals/{referral_id}/complete"): _referral("complete", {"outcome": "resolved"}),
    ("referral", "POST", "/v1/referrals/{referral_id}/decline"): _referral("decline", {"reason": "other"}),
    ("referral", "POST", "/v1/referrals/{referral_id}/cancel"): _referral(
        "cancel", {"reason": "duplicate"}, by=KATASE_COUNTER
    ),
    ("referral", "GET", "/v1/actions/{action_id}"): Case(lambda w: Call(f"/v1/actions/{w.action_id}", ACTOR, ACTION)),
    ("referral", "POST", "/v1/outreach"): Case(
        lambda w: Call("/v1/outreach", KATASE_CSW, w.katase_case, body={"case_id": w.katase_case})
    ),
    ("referral", "GET", "/v1/outreach"): Case(
        lambda w: Call("/v1/outreach", KATASE_COUNTER, w.katase_case, {"case_id": w.katase_case})
    ),
    ("referral", "GET", "/v1/outreach/{outreach_id}"): _outreach(""),
    ("referral", "POST", "/v1/outreach/{outreach_id}/attempts"): _outreach(
        "/attempts", {"method": "visit", "result": "no-answer"}
    ),
    ("referral", "POST", "/v1/outreach/{outreach_id}/contact"): _outreach("/contact"),
    ("referral", "POST", "/v1/outreach/{outreach_id}/consent"): _outreach("/consent"),
    ("referral", "POST", "/v1/outreach/{outreach_id}/end"): _outreach("/end", {"ending": "handed-over"}),
    ("referral", "GET", "/v1/inbox"): Own(lambda w: Call("/v1/inbox", w.referral["to_agency"])),
    ("referral", "GET", "/v1/cases/at-risk"): Own(lambda w: Call("/v1/cases/at-risk", KATASE_COUNTER)),
    ("referral", "GET", "/v1/cases"): Own(lambda w: Call("/v1/cases", KATASE_COUNTER)),
    ("referral", "GET", "/v1/directory"): Own(lambda w: Call("/v1/directory", KATASE_COUNTER)),
    ("referral", "PUT", "/v1/agencies/me/capacity"): Own(
        lambda w: Call("/v1/agencies/me/capacity", "ikiiki-endo", body={"capacity": "available"})
    ),
    ("referral", "DELETE", "/v1/agencies/me/capacity"): Own(lambda w: Call("/v1/agencies/me/capacity", "ikiiki-endo")),
    # meetings
    ("meetings", "GET", "/v1/meetings"): Case(
        lambda w: Call("/v1/meetings", w.meeting["organizer"], w.kugenuma_case, {"case_id": w.kugenuma_case})
    ),
    # The same operation without case_id: the calling agency's own agenda (the meetings it organises or attends).
    ("meetings", "GET", "/v1/meetings?agenda"): Own(lambda w: Call("/v1/meetings", w.meeting["organizer"])),
    ("meetings", "POST", "/v1/meetings"): Case(
        lambda w: Call(
            "/v1/meetings",
            w.meeting["organizer"],
            w.kugenuma_case,
            body={"case_id": w.kugenuma_case, "kind": "confidential", "participants": ["csw-kugenuma"]},
        )
    ),
    ("meetings", "GET", "/v1/meetings/{meeting_id}"): _meeting(""),
    ("meetings", "GET", "/v1/meetings/{meeting_id}/invitation.ics"): _meeting("/invitation.ics"),
    ("meetings", "POST", "/v1/meetings/{meeting_id}/schedule"): _meeting("/schedule", {}),
    ("meetings", "POST", "/v1/meetings/{meeting_id}/held"): _meeting(
        "/held", {"at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat()}
    ),
    ("meetings", "POST", "/v1/meetings/{meeting_id}/plan"): _meeting("/plan", PLAN),
    ("meetings", "POST", "/v1/meetings/{meeting_id}/cancel"): _meeting(
        "/cancel", {"reason": "replaced", "note": "matrix"}
    ),
    ("meetings", "GET", "/v1/figures"): Own(
        lambda w: Call("/v1/figures", KATASE_COUNTER, params={"fiscal_year": "2026"})
    ),
    # notify. Without case_id, GET /v1/notifications lists the calling agency's own notifications (as Own would):
    # test_workbench_notifications shows an uninvolved agency's listing without another's.
    ("notify", "GET", "/v1/notifications"): Case(
        lambda w: Call(
            "/v1/notifications", w.notification["recipient_agency"], w.katase_case, {"case_id": w.katase_case}
        )
    ),
    ("notify", "POST", "/v1/notifications/{notification_id}/acknowledge"): Case(
        lambda w: Call(
            f"/v1/notifications/{w.notification['notification_id']}/acknowledge",
            w.notification["recipient_agency"],
            w.katase_case,
        )
    ),
    ("notify", "POST", "/v1/notifications/{notification_id}/signed-acknowledgement"): Signed(
        lambda w: Call(
            f"/v1/notifications/{w.notification['notification_id']}/signed-acknowledgement",
            w.notification["recipient_agency"],
            w.katase_case,
        )
    ),
    ("notify", "GET", "/v1/ack/{notification_id}"): Link(
        lambda w: Call(f"/v1/ack/{w.notification['notification_id']}", "", params={"token": w.ack_token})
    ),
    ("notify", "POST", "/v1/ack/{notification_id}"): Link(
        lambda w: Call(f"/v1/ack/{w.notification['notification_id']}", "", params={"token": w.ack_token})
    ),
    ("notify", "GET", "/v1/rosters/me"): Own(lambda w: Call("/v1/rosters/me", "ikiiki-endo")),
    ("notify", "PUT", "/v1/rosters/me"): Own(
        lambda w: Call(
            "/v1/rosters/me",
            "ikiiki-endo",
            body=default_roster("ikiiki-endo", "oncall@ikiiki-endo.fujisawa-backbone.invalid").model_dump(mode="json"),
        )
    ),
    ("notify", "DELETE", "/v1/rosters/me"): Own(lambda w: Call("/v1/rosters/me", "ikiiki-endo")),
    # Last: the meetings above need the consent in force.
    ("intake", "POST", "/v1/consents/{consent_id}/withdrawal"): Case(
        lambda w: Call(f"/v1/consents/{w.consent_id}/withdrawal", KUGENUMA_COUNTER, w.kugenuma_case)
    ),
    # audit
    ("audit", "GET", "/v1/cases/{case_id}/history"): Case(
        lambda w: Call(f"/v1/cases/{w.katase_case}/history", KATASE_COUNTER, w.katase_case)
    ),
    ("audit", "GET", "/"): Public("the page's shell: it holds no data and signs in before it reads any", "/"),
    **{
        ("audit", "GET", path): Auditor(path)
        for path in (
            "/v1/timeline?case_id={case}",
            "/v1/timeline.csv?case_id={case}",
            "/v1/disclosures",
            "/v1/unanswered",
            "/v1/yearly?fiscal_year=2026",
        )
    },
}


def served_operations(services: RunningServices) -> set[Operation]:
    found: set[Operation] = set()
    for service in SKELETON:
        for path, operations in services.apps[service].openapi()["paths"].items():
            found |= {(service, method.upper(), path) for method in operations}
    return found


def _rule_keys() -> set[Operation]:
    return {(s, m, p.split("?")[0]) for s, m, p in RULES}


async def test_every_operation_has_an_authorization_rule(services: RunningServices) -> None:
    served = served_operations(services)
    unruled = served - _rule_keys()
    stale = _rule_keys() - served
    assert not unruled, f"operations with no authorization rule (add one to RULES): {sorted(unruled)}"
    assert not stale, f"rules for operations no service serves (remove them): {sorted(stale)}"


class Clients:
    """One token per agency, registered once in every service agencies call."""

    def __init__(self, services: RunningServices) -> None:
        self.services = services
        self.tokens: dict[str, str] = {}

    async def token(self, agency_id: str) -> str:
        if agency_id not in self.tokens:
            agency_type = AGENCIES[agency_id].type if agency_id in AGENCIES else AgencyType.AUDITOR
            self.tokens[agency_id] = await self.services.token(agency_id, agency_type)
        return self.tokens[agency_id]

    async def call(
        self, service: ServiceName, method: str, call: Call, *, token: str | None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        async with self.services.client(service) as client:
            if token is not None:
                client.headers["Authorization"] = f"Bearer {token}"
            return await client.request(method, call.path, params=call.params, json=call.body, headers=headers)


async def build_world(services: RunningServices, clients: Clients, bootstrap: str) -> World:
    katase_case = await urgent_consultation(services, "katase", ["elderly"], "行列試験")
    referral = await open_referral(services, katase_case)
    await eventually(lambda: deliveries(services, katase_case), within=30)
    (notification,) = [d for d in await deliveries(services, katase_case) if d["category"] == "referral-proposed"]
    notifier: Notifier = services.apps["notify"].state.notifier
    case, proposal = await consent_based_proposal(services)
    kugenuma_case = case["case_id"]
    await eventually(lambda: services.involved("intake", kugenuma_case, "ikiiki-kugenuma"), within=30)
    consent_id = await services.runtime("intake").pool.fetchval(
        "SELECT consent_id FROM consents WHERE case_id = $1", uuid.UUID(kugenuma_case)
    )
    # An agency that speaks Kafka: a submission, and an action on a referral that is not its own (rejected).
    async with services.client("intake") as intake:
        public_key = (await intake.get("/v1/keys/submission")).json()["public_key"]
    facts = {**FACT_SHEET, "receiving_agency": SUBMITTER}
    submission = sealed_submission(await clients.token(SUBMITTER), facts, None, public_key)
    action = signed_action(await clients.token(ACTOR), {"referral_id": referral["referral_id"], "action": "start"})
    await produce(bootstrap, INTAKE_SUBMISSIONS.name, [submission])
    await produce(bootstrap, REFERRAL_RESPONSES.name, [action])
    await readable(services, "intake", await clients.token(SUBMITTER), f"/v1/submissions/{ce_id(submission)}")
    await readable(services, "referral", await clients.token(ACTOR), f"/v1/actions/{ce_id(action)}")
    # audit learns who is involved from the case's records in its ledger: wait until it holds the case.
    await readable(services, "audit", await clients.token(KATASE_COUNTER), f"/v1/cases/{katase_case}/history")
    # Outreach on the Katase case: 社協 holds it with the district CSW, who becomes involved.
    async with services.client("referral") as referral_api:
        opened = await referral_api.post(
            "/v1/outreach",
            json={"case_id": katase_case},
            headers={"Authorization": f"Bearer {await clients.token('backup-fujisawa-shakyo')}"},
        )
    assert opened.status_code == 201 and opened.json()["partner"] == KATASE_CSW, opened.text
    katase = {KATASE_COUNTER, referral["to_agency"], notification["recipient_agency"], KATASE_CSW, *COORDINATORS}
    kugenuma = {KUGENUMA_COUNTER, "ikiiki-kugenuma", proposal["organizer"], *proposal["participants"], *COORDINATORS}
    return World(
        katase_case=katase_case,
        referral=referral,
        notification=notification,
        ack_token=notifier.ack_token(uuid.UUID(str(notification["notification_id"]))),
        kugenuma_case=kugenuma_case,
        person_id=case["person_id"],
        consultation_id=case["consultation_id"],
        meeting={**proposal, "meeting_id": str(proposal["meeting_id"])},
        consent_id=str(consent_id),
        submission_id=ce_id(submission),
        action_id=ce_id(action),
        outreach_id=opened.json()["outreach_id"],
        involved={
            katase_case: frozenset(katase),
            kugenuma_case: frozenset(kugenuma),
            SUBMISSION: frozenset({SUBMITTER}),
            ACTION: frozenset({ACTOR}),
        },
    )


async def test_every_operation_refuses_strangers_and_outsiders_and_lets_the_involved_through(
    services: RunningServices, bootstrap: str
) -> None:
    world = await build_world(services, clients := Clients(services), bootstrap)
    tried: dict[str, int] = {"anonymous": 0, "wrong": 0, "outsider": 0, "involved": 0, "public": 0}
    for (service, method, path), rule in RULES.items():
        where = f"{method} {service}{path}"
        match rule:
            case Public():
                answer = await clients.call(service, method, Call(rule.path, ""), token=None)
                assert answer.status_code == 200, (where, answer.status_code)
                tried["public"] += 1
            case Auditor():
                bare, _, query = rule.path.format(case=world.katase_case).partition("?")
                params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
                await _auditor_only(clients, service, method, Call(bare, "", params=params), where)
                tried["outsider"] += 1
            case Case() | Own():
                call = rule.call(world)
                await _strangers_refused(clients, service, method, call, where)
                tried["anonymous"] += 1
                tried["wrong"] += 1
                if isinstance(rule, Case):
                    tried["outsider"] += await _outsiders_refused(clients, service, method, call, world, where)
            case Link() | Signed():
                pass  # below, once every bearer operation was tried
    for (service, method, path), rule in RULES.items():
        where = f"{method} {service}{path}"
        match rule:
            case Case() | Own():
                call = rule.call(world)
                answer = await clients.call(service, method, call, token=await clients.token(call.actor))
                assert answer.status_code in LET_THROUGH, (where, call.actor, answer.status_code, answer.text)
                tried["involved"] += 1
            case Signed():
                tried["outsider"] += await _signed(clients, service, method, rule.call(world), world, where)
            case Link():
                tried["outsider"] += await _link(clients, service, method, rule.call(world), world, where)
    outsiders_per_case = len(AGENCIES) - max(len(v) for v in world.involved.values())
    assert tried["outsider"] >= outsiders_per_case * sum(isinstance(r, Case) for r in RULES.values())
    assert tried["involved"] == sum(isinstance(r, Case | Own) for r in RULES.values())


async def _strangers_refused(clients: Clients, service: ServiceName, method: str, call: Call, where: str) -> None:
    anonymous = await clients.call(service, method, call, token=None)
    wrong = await clients.call(service, method, call, token=f"{call.actor}.{'x' * 43}")
    for answer in (anonymous, wrong):
        assert answer.status_code == 401, (where, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), (where, answer.text)
        assert answer.headers.get("WWW-Authenticate") == "Bearer", where


async def _outsiders_refused(
    clients: Clients, service: ServiceName, method: str, call: Call, world: World, where: str
) -> int:
    """Every agency not involved in the call's case is refused, exactly as for an object that does not exist."""
    nothing = await clients.call(service, method, _elsewhere(call), token=await clients.token("ikiiki-endo"))
    made = 0
    for agency in AGENCIES:
        if agency in world.involved[call.case_id]:
            continue
        answer = await clients.call(service, method, call, token=await clients.token(agency))
        assert answer.status_code in REFUSED, (where, agency, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), (where, answer.text)
        assert (answer.status_code, answer.json()) == (nothing.status_code, nothing.json()), (where, agency)
        made += 1
    return made


def _elsewhere(call: Call) -> Call:
    """The same call about objects that do not exist: every id in the path and the query is a new one."""
    path = "/".join(_other_id(part) for part in call.path.split("/"))
    params = {key: _other_id(value) for key, value in call.params.items()}
    body = (
        {**call.body, "case_id": str(uuid.uuid4())}
        if isinstance(call.body, dict) and "case_id" in call.body
        else call.body
    )
    return Call(path, call.actor, "", params, body)


def _other_id(part: str) -> str:
    try:
        uuid.UUID(part)
    except ValueError:
        return part
    return str(uuid.uuid4())


async def _auditor_only(clients: Clients, service: ServiceName, method: str, call: Call, where: str) -> None:
    await _strangers_refused(clients, service, method, Call(call.path, "audit-matrix", params=call.params), where)
    for agency in ("ikiiki-endo", KATASE_COUNTER, *COORDINATORS):
        answer = await clients.call(service, method, call, token=await clients.token(agency))
        assert answer.status_code == 403, (where, agency, answer.status_code)
    answer = await clients.call(service, method, call, token=await clients.token(f"auditor-{uuid.uuid4().hex[:6]}"))
    assert answer.status_code == 200, (where, answer.status_code, answer.text)


async def _signed(clients: Clients, service: ServiceName, method: str, call: Call, world: World, where: str) -> int:
    notifier: Notifier = clients.services.apps["notify"].state.notifier
    body = b"{}"

    async def send(headers: dict[str, str]) -> httpx.Response:
        async with clients.services.client(service) as client:
            return await client.request(method, call.path, content=body, headers=headers)

    missing = await send({})
    forged = await send({"X-Backbone-Agency": call.actor, "X-Backbone-Signature": f"t={int(time.time())},v1=00"})
    assert missing.status_code in {401, 422} and forged.status_code == 401, (where, missing.text, forged.text)
    made = 0
    for agency in AGENCIES:
        if agency == call.actor:
            continue
        own = channels.sign(notifier.webhook_secret(agency), body)
        answer = await send({"X-Backbone-Agency": agency, "X-Backbone-Signature": own})
        assert answer.status_code == 404, (where, agency, answer.status_code)
        made += 1
    signed = await send(
        {
            "X-Backbone-Agency": call.actor,
            "X-Backbone-Signature": channels.sign(notifier.webhook_secret(call.actor), body),
        }
    )
    assert signed.status_code == 200, (where, signed.text)
    return made


async def _link(clients: Clients, service: ServiceName, method: str, call: Call, world: World, where: str) -> int:
    """The link's token is the credential: without it, with a wrong one, or with any agency's bearer token
    instead, the same 404 page; with it, the page (GET) or the acknowledgement (POST, token in the form)."""

    async def send(token: str | None, bearer: str | None = None) -> httpx.Response:
        async with clients.services.client(service) as client:
            if bearer:
                client.headers["Authorization"] = f"Bearer {bearer}"
            if method == "GET":
                return await client.get(call.path, params={"token": token} if token is not None else {})
            return await client.post(call.path, data={"token": token} if token is not None else {})

    refused = [
        await send(None),
        await send("0" * len(world.ack_token)),
        await send(None, bearer=await clients.token(world.notification["recipient_agency"])),
    ]
    for answer in refused:
        assert answer.status_code == 404, (where, answer.status_code, answer.text)
    assert len({answer.text for answer in refused}) == 1, where
    shown = await send(world.ack_token)
    assert shown.status_code == 200, (where, shown.text)
    return len(refused)


async def test_an_agency_over_its_rate_is_answered_429_with_retry_after_and_others_are_not(
    services: RunningServices,
) -> None:
    runtime = services.runtime("referral")
    usual = runtime.limiter
    # A clock that stands still: no allowance comes back between the requests, however slow the machine.
    runtime.limiter = AgencyLimiter(rate=1, burst=2, clock=lambda: 0.0)
    try:
        async with await services.as_agency("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as busy:
            answers = [await busy.get("/v1/inbox") for _ in range(4)]
        async with await services.as_agency("ikiiki-meiji", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as other:
            calm = await other.get("/v1/inbox")
    finally:
        runtime.limiter = usual
    assert [a.status_code for a in answers[:2]] == [200, 200]
    refused = answers[2]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "ikiiki-endo" in refused.json()["detail"]
    assert calm.status_code == 200

"""Consent decides disclosure; erasure shreds; the same person at two agencies shares one case."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from schemas.events import PersonalDataDisclosed
from schemas.topics import INTAKE_EVENTS
from schemas.vocabulary import AgencyType
from services.intake import persons
from services.intake.context import Intake
from services.intake.crypto import UndecryptableError, decrypt
from tests.integration.kafka_tools import end_offsets, eventually, read_from
from tests.integration.services import RunningServices

COUNTER = ("chiku-fukushi-meiji", AgencyType.DISTRICT_WELFARE_COUNTER)
CENTRE = ("ikiiki-meiji", AgencyType.COMMUNITY_SUPPORT_CENTRE)
BACKUP = ("backup-fujisawa", AgencyType.SELF_RELIANCE)


def submission(
    person: dict[str, Any] | None,
    *,
    agency: str = COUNTER[0],
    consent: bool = True,
    domains: tuple[str, ...] = ("elderly", "carer"),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "receiving_agency": agency,
        "staff_id": "m-07",
        "channel": "counter",
        "district": "meiji",
        "domains": list(domains),
        "personal": {"summary": "介護に疲れている。夜眠れない。", "person": person},
    }
    if consent:
        body["consent"] = {
            "scope": {"agency_types": ["community-support-centre"]},
            "purposes": ["support"],
            "method": "written",
        }
    return body


def someone() -> dict[str, Any]:
    return {
        "family_name": "明治",
        "given_name": f"太郎{uuid.uuid4().hex[:6]}",
        "birth_date": "1950-01-02",
        "phone": "0466-11-2233",
        "address": "藤沢市明治1-2-3",
    }


async def submit(services: RunningServices, agency: tuple[str, AgencyType], body: dict[str, Any]) -> dict[str, Any]:
    async with await services.as_agency(*agency) as client:
        answer = await client.post("/v1/consultations", json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def read(
    services: RunningServices, agency: tuple[str, AgencyType], person_id: str, purpose: str = "support"
) -> Any:
    async with await services.as_agency(*agency) as client:
        return await client.get(f"/v1/persons/{person_id}", params={"purpose": purpose})


async def referred(services: RunningServices, case_id: str, agency_id: str) -> None:
    """Wait until intake has seen the referral of the case to the agency (then it is involved)."""
    await eventually(lambda: services.involved("intake", case_id, agency_id), within=30)


async def test_disclosure_follows_consent_and_every_request_is_on_record(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, INTAKE_EVENTS.name)
    person = someone()
    accepted = await submit(services, COUNTER, submission(person))
    person_id = accepted["person_id"]
    await referred(services, accepted["case_id"], CENTRE[0])

    covered = await read(services, CENTRE, person_id)
    assert covered.status_code == 200
    shown = covered.json()
    assert shown["identity"]["given_name"] == person["given_name"]
    assert shown["consultations"][0]["summary"] == "介護に疲れている。夜眠れない。"

    wrong_purpose = await read(services, CENTRE, person_id, purpose="case-meeting")
    not_covered = await read(services, BACKUP, person_id)
    nobody = await read(services, BACKUP, str(uuid.uuid4()))
    assert wrong_purpose.status_code == not_covered.status_code == nobody.status_code == 403
    assert not_covered.json() == nobody.json()  # a refusal does not say whether the person exists
    assert person["given_name"] not in not_covered.text

    async with await services.as_agency(*COUNTER) as counter:
        recorded = await counter.post(
            f"/v1/persons/{person_id}/consents",
            json={"scope": {"agencies": [BACKUP[0]]}, "purposes": ["support", "referral"], "method": "verbal"},
        )
        assert recorded.status_code == 201, recorded.text
        assert (await read(services, BACKUP, person_id)).status_code == 200
        withdrawn = await counter.post(f"/v1/consents/{recorded.json()['consent_id']}/withdrawal")
        assert withdrawn.status_code == 200
        again = await counter.post(f"/v1/consents/{recorded.json()['consent_id']}/withdrawal")
        assert again.status_code == 404
    assert (await read(services, BACKUP, person_id)).status_code == 403  # nothing more after withdrawal
    assert (await read(services, CENTRE, person_id)).status_code == 200  # the other consent still stands

    async with await services.as_agency(*BACKUP) as stranger:  # no consultation with the person: may not record
        refused = await stranger.post(
            f"/v1/persons/{person_id}/consents",
            json={"scope": {"all_programme_agencies": True}, "purposes": ["support"], "method": "verbal"},
        )
    assert refused.status_code == 403

    expected = [
        ("ikiiki-meiji", "allowed"),
        ("ikiiki-meiji", "denied"),
        ("backup-fujisawa", "denied"),
        ("backup-fujisawa", "allowed"),
        ("backup-fujisawa", "denied"),
        ("ikiiki-meiji", "allowed"),
    ]

    def disclosures(records: list[Any]) -> list[tuple[str, str]]:
        found = []
        for record in records:
            if dict(record.headers).get("ce_type") == PersonalDataDisclosed.TYPE.encode():
                event = PersonalDataDisclosed.model_validate_json(record.value)
                if str(event.person_id) == person_id:
                    found.append((event.requesting_agency, event.outcome))
        return found

    records = await read_from(bootstrap, INTAKE_EVENTS.name, since, until=lambda got: len(disclosures(got)) >= 6)
    assert disclosures(records) == expected


async def test_erasure_shreds_the_data_and_the_api_answers_as_for_an_unknown_person(services: RunningServices) -> None:
    person = someone()
    accepted = await submit(services, COUNTER, submission(person))
    person_id = uuid.UUID(accepted["person_id"])
    await referred(services, accepted["case_id"], CENTRE[0])
    pool = services.runtime("intake").pool
    intake: Intake = services.apps["intake"].state.intake
    assert (await read(services, CENTRE, str(person_id))).status_code == 200

    async with pool.acquire() as conn:
        assert await intake.on(conn).erase_person(person_id)
        assert not await intake.on(conn).erase_person(person_id)  # once is enough
    row = await pool.fetchrow(
        "SELECT wrapped_key, identity_ct, subject_ref FROM persons WHERE person_id = $1", person_id
    )
    assert row["wrapped_key"] is None and row["subject_ref"] is None
    assert row["identity_ct"] is not None  # the ciphertext is still there, and is noise now
    with pytest.raises(UndecryptableError):
        decrypt(intake.subject_key, row["identity_ct"], f"person:{person_id}:identity")
    async with pool.acquire() as conn:
        assert await persons.read(intake.on(conn), intake.vault, person_id) is None

    after = await read(services, CENTRE, str(person_id))
    unknown = await read(services, CENTRE, str(uuid.uuid4()))
    assert after.status_code == unknown.status_code == 403 and after.json() == unknown.json()
    again = await submit(services, COUNTER, submission(person))  # the same identity is a new person now
    assert again["person_id"] != str(person_id) and again["new_case"]


async def test_the_same_person_at_two_agencies_joins_one_case(services: RunningServices) -> None:
    given = f"花子{uuid.uuid4().hex[:12]}"
    first = await submit(
        services,
        COUNTER,
        submission({"family_name": "藤沢", "given_name": given, "birth_date": "1960-03-03"}, consent=False),
    )
    # The same name as another agency typed it: full-width letters, an ideographic space, different spacing.
    width_variant = given.translate(str.maketrans("0123456789abcdef", "０１２３４５６７８９ａｂｃｄｅｆ"))
    second = await submit(
        services,
        CENTRE,
        submission(
            {"family_name": "藤　沢", "given_name": f" {width_variant} ", "birth_date": "1960-03-03"},
            agency=CENTRE[0],
            consent=False,
        ),
    )
    other = await submit(
        services,
        CENTRE,
        submission(
            {"family_name": "藤沢", "given_name": given, "birth_date": "1960-03-04"}, agency=CENTRE[0], consent=False
        ),
    )
    assert first["new_case"] and not second["new_case"]
    assert (second["person_id"], second["case_id"]) == (first["person_id"], first["case_id"])
    assert other["person_id"] != first["person_id"] and other["new_case"]
    anonymous = [await submit(services, COUNTER, submission(None, consent=False)) for _ in range(2)]
    assert anonymous[0]["person_id"] != anonymous[1]["person_id"]


async def test_a_referred_agency_reads_the_person_and_the_summary_from_the_referral_alone(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, INTAKE_EVENTS.name)
    person = someone()
    # One domain: the centre is referred (not only invited to a coordination meeting).
    accepted = await submit(services, COUNTER, submission(person, domains=("elderly",)))
    await referred(services, accepted["case_id"], CENTRE[0])

    # The referred centre starts from its inbox: the referral names the consultation and the person.
    async with await services.as_agency(*CENTRE, service="referral") as referral:
        inbox = (await referral.get("/v1/inbox")).json()
        (mine,) = [r for r in inbox if r["case_id"] == accepted["case_id"]]
        one = await referral.get(f"/v1/referrals/{mine['referral_id']}")
    assert one.status_code == 200 and one.json() == mine
    assert mine["person_id"] == accepted["person_id"]
    assert mine["consultation_id"] == accepted["consultation_id"]

    async with await services.as_agency(*CENTRE) as centre:
        consultation = await centre.get(f"/v1/consultations/{mine['consultation_id']}", params={"purpose": "support"})
        person_read = await centre.get(f"/v1/persons/{mine['person_id']}", params={"purpose": "support"})
    assert consultation.status_code == 200, consultation.text
    shown = consultation.json()
    assert shown["identity"]["given_name"] == person["given_name"]
    assert [c["summary"] for c in shown["consultations"]] == ["介護に疲れている。夜眠れない。"]
    assert person_read.status_code == 200

    # Consent covers every community support centre, but need to know does not: a centre of another
    # district, not involved in the case, is refused exactly as for a consultation that does not exist.
    outsider = ("ikiiki-katase", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    async with await services.as_agency(*outsider) as other:
        refused = await other.get(f"/v1/consultations/{mine['consultation_id']}", params={"purpose": "support"})
        unknown = await other.get(f"/v1/consultations/{uuid.uuid4()}", params={"purpose": "support"})
        by_person = await other.get(f"/v1/persons/{mine['person_id']}", params={"purpose": "support"})
    assert refused.status_code == unknown.status_code == by_person.status_code == 403
    assert refused.json() == unknown.json() == by_person.json()
    assert person["given_name"] not in refused.text
    async with await services.as_agency(*outsider, service="referral") as other_referral:
        hidden = await other_referral.get(f"/v1/referrals/{mine['referral_id']}")
        missing = await other_referral.get(f"/v1/referrals/{uuid.uuid4()}")
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()

    # Without consent the referred centre is refused too.
    bare = await submit(services, COUNTER, submission(someone(), consent=False, domains=("elderly",)))
    await referred(services, bare["case_id"], CENTRE[0])
    async with await services.as_agency(*CENTRE) as centre:
        unconsented = await centre.get(f"/v1/consultations/{bare['consultation_id']}", params={"purpose": "support"})
    assert unconsented.status_code == 403

    def disclosures(records: list[Any]) -> list[tuple[str, str, str]]:
        wanted = {accepted["person_id"], bare["person_id"]}
        return [
            (event.requesting_agency, event.outcome, str(event.person_id))
            for record in records
            if dict(record.headers).get("ce_type") == PersonalDataDisclosed.TYPE.encode()
            for event in [PersonalDataDisclosed.model_validate_json(record.value)]
            if str(event.person_id) in wanted
        ]

    records = await read_from(bootstrap, INTAKE_EVENTS.name, since, until=lambda got: len(disclosures(got)) >= 5)
    # Each person's disclosures in order (two persons' records may sit in two partitions).
    assert sorted(disclosures(records), key=lambda d: d[2] != accepted["person_id"]) == [
        (CENTRE[0], "allowed", accepted["person_id"]),
        (CENTRE[0], "allowed", accepted["person_id"]),
        (outsider[0], "denied", accepted["person_id"]),
        (outsider[0], "denied", accepted["person_id"]),
        (CENTRE[0], "denied", bare["person_id"]),
    ]

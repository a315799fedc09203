"""つなぐシート's pure parts: the era of a birth date, kana readings, the sheet as intake's submission, and
intake's problem paths back to the form's fields."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from starlette.requests import Request

from backbone.calendar import TOKYO
from schemas.submission import ConsultationSubmission
from services.workbench.consultation_form import _sheet as _sheet_page
from services.workbench.consultation_sheet import (
    WESTERN,
    BirthDateError,
    SheetForm,
    also_wrong,
    birth_date,
    era_of,
    era_text,
    fields_of,
    form_field,
    katakana,
    staff_id,
    submission,
)
from services.workbench.sessions import Session
from tests.unit.workbench.test_workbench_rules import _workbench


@pytest.mark.parametrize(
    ("day", "era", "year"),
    [
        (date(1950, 5, 5), "昭和", 25),
        (date(1926, 12, 24), "大正", 15),
        (date(1926, 12, 25), "昭和", 1),
        (date(1989, 1, 7), "昭和", 64),
        (date(1989, 1, 8), "平成", 1),
        (date(2019, 4, 30), "平成", 31),
        (date(2019, 5, 1), "令和", 1),
        (date(1912, 7, 29), "明治", 45),
        (date(1912, 7, 30), "大正", 1),
        (date(1900, 1, 1), "明治", 33),
    ],
)
def test_the_era_of_a_date_changes_on_the_day_of_the_accession(day: date, era: str, year: int) -> None:
    found = era_of(day)
    assert found is not None and (found[0].ja, found[1]) == (era, year)


def test_a_date_is_shown_in_both_calendars_with_gannen_for_the_first_year() -> None:
    assert era_text(date(1950, 5, 5), "ja") == "昭和25年（1950年）5月5日"
    assert era_text(date(1989, 1, 8), "ja") == "平成元年（1989年）1月8日"
    assert era_text(date(1950, 5, 5), "en") == "5 May 1950 (Shōwa 25)"
    assert era_of(date(1868, 1, 1)) is None


def test_a_birth_date_is_read_in_an_era_or_the_western_calendar() -> None:
    assert birth_date("showa", "２５", "5", "5") == date(1950, 5, 5)  # full-width digits
    assert birth_date("heisei", "元", "1", "8") == date(1989, 1, 8)
    assert birth_date("showa", "64年", "1", "7") == date(1989, 1, 7)
    assert birth_date(WESTERN, "1941", "5", "5") == date(1941, 5, 5)
    assert birth_date(WESTERN, "", "", "") is None  # optional


@pytest.mark.parametrize(
    ("era", "year", "month", "day"),
    [
        ("showa", "65", "1", "1"),  # 昭和 ended in its 64th year
        ("heisei", "1", "1", "7"),  # 平成元年1月7日 was still 昭和64年
        ("taisho", "0", "1", "1"),
        ("showa", "25", "2", "30"),
        ("showa", "二十五", "5", "5"),
        ("edo", "1", "1", "1"),
        (WESTERN, "1950", "", "5"),
    ],
)
def test_a_date_that_is_not_one_or_not_of_its_era_is_refused(era: str, year: str, month: str, day: str) -> None:
    with pytest.raises(BirthDateError):
        birth_date(era, year, month, day)


def test_readings_become_full_width_katakana_whichever_kana_they_were_written_in() -> None:
    assert katakana("かたせ") == "カタセ"
    assert katakana("ｶﾀｾ　ﾊﾅｺ") == "カタセ ハナコ"  # half-width, with the ideographic space
    assert katakana("がっこう ゔ ゝ") == "ガッコウ ヴ ヽ"
    assert katakana("ハナコ") == "ハナコ"
    assert katakana("Hanako") == "Hanako"  # left for intake to refuse beside the field


def _sheet(**values: str | list[str]) -> SheetForm:
    base: dict[str, str | list[str]] = {
        "family_name": "片瀬",
        "given_name": "花子",
        "family_name_kana": "かたせ",
        "given_name_kana": "ﾊﾅｺ",
        "birth_era": "showa",
        "birth_year": "25",
        "birth_month": "5",
        "birth_day": "5",
        "channel": "counter",
        "district": "katase",
        "domain": ["elderly", "8050"],
        "urgency": "normal",
        "summary": "買い物に行けていない。",
        "consent_scope": "types",
        "consent_type": ["community-support-centre"],
        "consent_purpose": ["support", "referral"],
        "consent_method": "verbal",
    }
    merged = base | values
    return SheetForm({name: value if isinstance(value, list) else [value] for name, value in merged.items()})


def test_a_sheet_becomes_intakes_submission_in_the_staff_members_agency_name() -> None:
    body, problems = submission(
        _sheet(receiving_agency="someone-else"), agency_id="chiku-fukushi-katase", subject="s-1"
    )
    assert problems == set()
    parsed = ConsultationSubmission.model_validate(body)
    assert parsed.receiving_agency == "chiku-fukushi-katase"
    assert parsed.staff_id == staff_id("s-1") and len(parsed.staff_id) == 16 and "s-1" not in parsed.staff_id
    person = parsed.personal.person
    assert person is not None
    assert (person.family_name_kana, person.given_name_kana, person.birth_date) == (
        "カタセ",
        "ハナコ",
        date(1950, 5, 5),
    )
    assert parsed.consent is not None and [str(t) for t in parsed.consent.scope.agency_types] == [
        "community-support-centre"
    ]
    assert [str(d) for d in parsed.domains] == ["elderly", "8050"]


def test_an_anonymous_sheet_has_no_person_and_no_consent_when_none_was_given() -> None:
    body, problems = submission(_sheet(anonymous="yes", consent_scope="none"), agency_id="a-1", subject="s")
    assert problems == set() and "person" not in body["personal"] and "consent" not in body


def test_the_forms_own_problems_and_intakes_are_found_together() -> None:
    form = _sheet(birth_year="65", district="", domain=[], consent_scope="agencies", given_name_kana="Hanako")
    body, problems = submission(form, agency_id="a-1", subject="s")
    assert problems == {"birth_date", "consent_scope"}
    assert also_wrong(body) == {"district", "domains", "given_name_kana"}


def test_a_family_members_sheet_names_the_household_by_the_number_an_earlier_sheet_showed() -> None:
    household = "0b7c6a3e-6a55-4b3f-9d8e-3f1e2a9b7c10"
    body, problems = submission(
        _sheet(consulted_by="family", household="join", household_id=f" {household} ", relation="child"),
        agency_id="ikiiki-katase",
        subject="s",
    )
    assert problems == set()
    parsed = ConsultationSubmission.model_validate(body)
    assert str(parsed.consulted_by) == "family" and parsed.household is not None
    assert (str(parsed.household.household_id), str(parsed.household.relation)) == (household, "child")
    started, _ = submission(_sheet(household="new", relation="head"), agency_id="a-1", subject="s")
    assert started["household"] == {"relation": "head"} and "consulted_by" not in started
    assert "household" not in submission(_sheet(), agency_id="a-1", subject="s")[0]  # none: the default
    _, problems = submission(_sheet(household="join", household_id="世帯1"), agency_id="a-1", subject="s")
    assert problems == {"household_id"}
    unknown = {"title": "Unknown household", "detail": "No household with this id that your agency is involved in."}
    assert fields_of(unknown) == {"household_id"}


def test_intakes_problem_paths_land_beside_the_forms_fields() -> None:
    assert form_field("body.personal.person.family_name_kana") == "family_name_kana"
    assert form_field("body.personal.person.family_name") == "family_name"
    assert form_field("body.personal.person") == "family_name"
    assert form_field("body.domains.0") == "domains"
    assert form_field("body.consent.scope.agency_types.0") == "consent_scope"
    assert form_field("body.consent.purposes") == "consent_purposes"
    assert form_field("body") == "form"
    problem = {"errors": [{"field": "body.district", "message": "x"}, {"field": "body.personal.summary"}]}
    assert fields_of(problem) == {"district", "summary"}
    assert fields_of({"detail": "no errors listed"}) == {"form"}


def test_the_sheet_shows_each_problem_beside_its_field_keeps_what_was_written_and_the_era() -> None:
    workbench = _workbench()
    request = Request({"type": "http", "method": "POST", "path": "/sheet", "query_string": b"", "headers": []})
    session = Session(
        b"", "sub-1", "chiku-fukushi-katase", frozenset({"staff"}), "", "csrf-1", "", "", datetime.now(TOKYO), None
    )
    form = _sheet(given_name_kana="<b>Hanako</b>", district="", sheet_key="k" * 43)
    for lang, said in (("ja", "ふりがなは、ひらがなかカタカナで"), ("en", "Write the reading in hiragana or katakana")):
        page = _sheet_page(
            request, workbench, lang, session, form, problems={"given_name_kana", "district"}, status=422
        )
        html = page.body.decode()
        assert page.status_code == 422 and html.count('aria-invalid="true"') == 2
        assert f'<p class="error" id="given_name_kana-problem">{said}' in html
        assert 'aria-describedby="district-problem"' in html and 'id="district-problem"' in html
        assert "&lt;b&gt;Hanako&lt;/b&gt;" in html and "<b>Hanako" not in html  # kept, escaped
        assert 'name="sheet_key" value="' + "k" * 43 in html  # the same sheet: a resubmit is the same consultation
    assert (
        "昭和25年（1950年）5月5日" in _sheet_page(request, workbench, "ja", session, form, problems=set()).body.decode()
    )

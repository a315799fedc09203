"""つなぐシート: what a staff member writes on the consultation form, turned into intake's submission, and
intake's answer about it turned back into problems beside the form's fields. Pure: no I/O.

City staff write birth dates in the Japanese era (和暦, 昭和25年) as often as in the Western calendar, and
readings (ふりがな) in hiragana, katakana or half-width katakana: the form takes all of them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from schemas.submission import ConsultationSubmission
from schemas.vocabulary import AgencyType

WESTERN = "western"
"""The era select's value for a year written in the Western calendar (西暦)."""


@dataclass(frozen=True)
class Era:
    key: str
    ja: str
    en: str
    starts: date


# Newest first. Each era starts on the day of the accession (明治: 1 January 1868 in the lunisolar calendar, which
# is 25 January in the Gregorian); the day before is the last of the previous era (昭和64年1月7日, 平成元年1月8日).
ERAS: tuple[Era, ...] = (
    Era("reiwa", "令和", "Reiwa", date(2019, 5, 1)),
    Era("heisei", "平成", "Heisei", date(1989, 1, 8)),
    Era("showa", "昭和", "Shōwa", date(1926, 12, 25)),
    Era("taisho", "大正", "Taishō", date(1912, 7, 30)),
    Era("meiji", "明治", "Meiji", date(1868, 1, 25)),
)
_BY_KEY = {era.key: era for era in ERAS}


class BirthDateError(ValueError):
    """The year, month and day written on the form make no date (or no date of the era named)."""


def era_of(day: date) -> tuple[Era, int] | None:
    """The era of a date and the year within it (1 is 元年); None before 明治."""
    for era in ERAS:
        if day >= era.starts:
            return era, day.year - era.starts.year + 1
    return None


def era_text(day: date, lang: str) -> str:
    """The date as staff read it: 昭和25年（1950年）5月5日, or 5 May 1950 (Shōwa 25) in English."""
    found = era_of(day)
    if lang == "en":
        western = f"{day.day} {day.strftime('%B')} {day.year}"
        return f"{western} ({found[0].en} {found[1]})" if found else western
    if found is None:
        return f"{day.year}年{day.month}月{day.day}日"
    era, year = found
    return f"{era.ja}{'元' if year == 1 else year}年（{day.year}年）{day.month}月{day.day}日"


def birth_date(era_key: str, year_text: str, month_text: str, day_text: str) -> date | None:
    """The date of the form's four parts; None when all are empty (a birth date is optional).

    The year may be written with full-width digits, with 年, or as 元 (the first year of an era). A date
    outside the era named (昭和65年, 平成元年1月7日) is refused rather than moved into the next era."""
    year_text = unicodedata.normalize("NFKC", year_text).strip().removesuffix("年").strip()
    if not (year_text or month_text or day_text):
        return None
    try:
        year = 1 if year_text == "元" else int(year_text)
        if era_key == WESTERN:
            return date(year, int(month_text), int(day_text))
        era = _BY_KEY[era_key]
        day = date(era.starts.year + year - 1, int(month_text), int(day_text))
    except (KeyError, ValueError) as error:
        raise BirthDateError(str(error)) from None
    following = next((e for e in reversed(ERAS) if e.starts > era.starts), None)
    if year < 1 or day < era.starts or (following is not None and day >= following.starts):
        raise BirthDateError(f"{day} is not in {era.en}")
    return day


def katakana(reading: str) -> str:
    """A reading in full-width katakana, as intake keeps it whichever kana it was written in: NFKC makes
    half-width katakana full-width (ｶﾞ → ガ) and the ideographic space a space; hiragana moves to katakana
    (the two blocks are 0x60 apart); runs of white space become one space. Anything else is left for intake
    to refuse, so the staff member sees which field to correct."""
    normalised = " ".join(unicodedata.normalize("NFKC", reading).split())
    return "".join(chr(ord(char) + 0x60) if "ぁ" <= char <= "ゖ" or char in "ゝゞ" else char for char in normalised)


def staff_id(subject: str) -> str:
    """intake's `staff_id` for a staff member of the workbench.

    intake keeps `staff_id` as the agency's own reference of who took the consultation in; an agency's system
    sends its own staff number. The workbench has no staff register and must not send a name, so it sends a
    stable opaque id derived from the provider's subject: the same person gets the same id on every sheet, and
    the subject itself (recorded as `by_staff`) is not copied into another column."""
    return hashlib.sha256(subject.encode()).hexdigest()[:16]


@dataclass
class SheetForm:
    """The posted form, every value of each name (checklists send one value per ticked box)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0].strip() if found else default

    def every(self, name: str) -> list[str]:
        return [value for value in self.values.get(name, []) if value]

    def has(self, name: str, value: str) -> bool:
        return value in self.values.get(name, [])


def submission(form: SheetForm, *, agency_id: str, subject: str) -> tuple[dict[str, Any], set[str]]:
    """intake's submission body of the sheet, and the fields the form itself found wrong (the birth date's
    parts, a consent scope without a choice). The agency is the signed-in staff member's, never the form's."""
    problems: set[str] = set()
    body: dict[str, Any] = {
        "receiving_agency": agency_id,
        "staff_id": staff_id(subject),
        "channel": form.get("channel"),
        "district": form.get("district"),
        "domains": form.every("domain"),
        "urgency": form.get("urgency", "normal"),
        "personal": {"summary": form.get("summary")},
    }
    if form.get("anonymous") != "yes":
        person, problems = _person(form)
        body["personal"]["person"] = person
    consent, scope_problem = _consent(form)
    if consent is not None:
        body["consent"] = consent
    if scope_problem:
        problems.add("consent_scope")
    if form.get("consulted_by", "person") != "person":
        body["consulted_by"] = form.get("consulted_by")
    household, household_problem = _household(form)
    if household is not None:
        body["household"] = household
    if household_problem:
        problems.add("household_id")
    return body, problems


def _household(form: SheetForm) -> tuple[dict[str, Any] | None, bool]:
    """世帯: none, a new household, or the one an earlier sheet's answer gave (its id must be one); True beside it
    when the id to join is missing or is not an id."""
    chosen = form.get("household", "none")
    relation = {"relation": form.get("relation")} if form.get("relation") else {}
    if chosen == "new":
        return relation, False
    if chosen != "join":
        return None, False
    try:
        household_id = str(UUID(form.get("household_id")))
    except ValueError:
        return relation, True
    return {"household_id": household_id, **relation}, False


def _person(form: SheetForm) -> tuple[dict[str, Any], set[str]]:
    person: dict[str, Any] = {"family_name": form.get("family_name")}
    for name in ("given_name", "address", "phone"):
        if form.get(name):
            person[name] = form.get(name)
    for name in ("family_name_kana", "given_name_kana"):
        if form.get(name):
            person[name] = katakana(form.get(name))
    try:
        born = birth_date(
            form.get("birth_era", WESTERN), form.get("birth_year"), form.get("birth_month"), form.get("birth_day")
        )
    except BirthDateError:
        return person, {"birth_date"}
    if born is not None:
        person["birth_date"] = born.isoformat()
    return person, set()


def _consent(form: SheetForm) -> tuple[dict[str, Any] | None, bool]:
    """The consent captured, if any; True beside it when the scope chosen lists nothing."""
    scope = form.get("consent_scope", "none")
    scopes: dict[str, dict[str, Any]] = {
        "all": {"all_programme_agencies": True},
        "types": {"agency_types": form.every("consent_type")},
        "agencies": {"agencies": form.every("consent_agency")},
    }
    listed = scopes.get(scope)
    if listed is None:
        return None, scope != "none"
    empty = not any(listed.values())
    return {"scope": listed, "purposes": form.every("consent_purpose"), "method": form.get("consent_method")}, empty


# Where each of intake's field paths is written on the form; the first that matches wins, so the more precise
# paths come first (a problem with the person as a whole is shown beside the family name, its one required part).
FIELDS: tuple[tuple[str, str], ...] = (
    ("personal.person.family_name_kana", "family_name_kana"),
    ("personal.person.given_name_kana", "given_name_kana"),
    ("personal.person.family_name", "family_name"),
    ("personal.person.given_name", "given_name"),
    ("personal.person.birth_date", "birth_date"),
    ("personal.person.address", "address"),
    ("personal.person.phone", "phone"),
    ("personal.person", "family_name"),
    ("personal", "summary"),
    ("channel", "channel"),
    ("district", "district"),
    ("domains", "domains"),
    ("urgency", "urgency"),
    ("household.household_id", "household_id"),
    ("household.relation", "relation"),
    ("household", "household"),
    ("consulted_by", "consulted_by"),
    ("consent.purposes", "consent_purposes"),
    ("consent.method", "consent_method"),
    ("consent", "consent_scope"),
)


def form_field(path: str) -> str:
    """The form's field of one of intake's problem paths (`body.personal.person.family_name_kana`); `form` for
    a problem with no field of its own."""
    path = path.removeprefix("body.")
    return next((name for prefix, name in FIELDS if path == prefix or path.startswith(prefix + ".")), "form")


def fields_of(problem: dict[str, Any]) -> set[str]:
    """The form's fields of intake's 422 problem (RFC 9457, `errors[].field`)."""
    if problem.get("title") == "Unknown household":  # not one this agency is involved in: the id is wrong
        return {"household_id"}
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        return {"form"}
    return {form_field(str(error.get("field", ""))) for error in errors if isinstance(error, dict)}


def also_wrong(body: dict[str, Any]) -> set[str]:
    """The fields intake would refuse, found with intake's own contract. Used when the form found a problem
    itself and the sheet is not sent, so that every problem is shown at once, not one round at a time."""
    try:
        ConsultationSubmission.model_validate(body)
    except ValidationError as error:
        return {form_field(".".join(str(part) for part in item["loc"])) for item in error.errors()}
    return set()


def consent_types() -> list[AgencyType]:
    """The agency types a consent may name (the auditors are no agency a person's data goes to)."""
    return [kind for kind in AgencyType if kind is not AgencyType.AUDITOR]

"""Property-based tests of identity normalisation and of the submission validator."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.submission import ConsultationSubmission, PersonIdentity
from services.intake.identity import normalise_name, subject_ref

KEY = bytes(range(32))
names = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=20)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


@given(names, birth_dates)
def test_width_and_white_space_do_not_change_the_reference(name: str, born: date) -> None:
    plain = PersonIdentity(family_name=name, birth_date=born)
    spaced = PersonIdentity(family_name=" \u3000".join(name.translate(FULL_WIDTH)) + "\u3000", birth_date=born)
    assert subject_ref(KEY, plain) == subject_ref(KEY, spaced)


@given(names, birth_dates, birth_dates)
def test_a_different_birth_date_is_a_different_person(name: str, one: date, other: date) -> None:
    same = subject_ref(KEY, PersonIdentity(family_name=name, birth_date=one)) == subject_ref(
        KEY, PersonIdentity(family_name=name, birth_date=other)
    )
    assert same == (one == other)


@given(names)
def test_no_birth_date_means_no_reference_and_normalising_is_idempotent(name: str) -> None:
    assert subject_ref(KEY, PersonIdentity(family_name=name)) is None
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert not any(char.isspace() for char in once)


@given(st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30F6), min_size=1, max_size=20))
def test_katakana_readings_are_accepted_in_full_and_half_width(kana: str) -> None:
    half = unicodedata.normalize("NFKD", kana)  # decomposed voiced marks still normalise back
    assert PersonIdentity(family_name="藤沢", family_name_kana=kana).family_name_kana == kana
    PersonIdentity(family_name="藤沢", family_name_kana=half)


@settings(max_examples=300, deadline=None)  # correctness, not speed: a loaded machine must not fail it
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "receiving_agency",
                "staff_id",
                "channel",
                "district",
                "domains",
                "urgency",
                "personal",
                "consent",
                "received_at",
                "extra",
            ]
        ),
        st.one_of(st.none(), st.text(max_size=30), st.integers(), st.lists(st.text(max_size=5))),
    )
)
def test_the_validator_accepts_or_names_the_problem_and_never_crashes(body: dict[str, object]) -> None:
    try:
        ConsultationSubmission.model_validate(body)
    except ValidationError as error:
        assert error.errors()  # always says which field and why

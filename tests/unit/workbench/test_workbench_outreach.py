"""The outreach page's forms: what a worker types becomes referral's body, or each field's problem; only the
engagement's workers see the forms, and only those its state allows; every word is there in both languages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.events import OutreachEnding, OutreachMethod, OutreachResult
from services.workbench import text
from services.workbench.apis import Engagement
from services.workbench.outreach_pages import STEPS, outreach_body, steps_for
from services.workbench.web import page_environment

NOW = datetime(2026, 5, 12, 3, 0, tzinfo=UTC)


def an_engagement(**changes: Any) -> Engagement:
    fields: dict[str, Any] = {
        "outreach_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "holder": "csw-katase",
        "partner": "backup-fujisawa-shakyo",
        "state": "attempting",
        "attempts": 0,
        "started_at": NOW,
        "last_attempt_at": None,
        "quiet_until": NOW + timedelta(days=14),
        "contact_at": None,
        "consent_at": None,
        "ended_at": None,
        "ending": None,
    }
    return Engagement.model_validate(fields | changes)


def test_an_attempt_needs_a_method_and_a_result_and_a_short_note() -> None:
    body, problems = outreach_body("attempts", {"method": "visit", "result": "no-answer", "note": " 不在票 "})
    assert body == {"method": "visit", "result": "no-answer", "note": "不在票"} and problems == []
    _, problems = outreach_body("attempts", {"method": "telepathy", "result": "", "note": "x" * 201})
    assert problems == ["method", "result", "note"]


def test_an_ending_needs_its_reason_and_the_other_steps_have_no_body() -> None:
    assert outreach_body("end", {"ending": "moved-away"}) == ({"ending": "moved-away", "note": ""}, [])
    assert outreach_body("end", {"ending": "finished"})[1] == ["ending"]
    assert outreach_body("contact", {}) == (None, []) and outreach_body("consent", {}) == (None, [])


def test_only_the_workers_see_the_forms_and_only_what_the_state_allows() -> None:
    attempting = an_engagement()
    assert steps_for(attempting, "csw-katase", coordinator_agency=False) == ("attempts", "contact", "end")
    assert steps_for(attempting, "backup-fujisawa-shakyo", coordinator_agency=True) == STEPS["attempting"]
    assert steps_for(attempting, "backup-fujisawa", coordinator_agency=True) == STEPS["attempting"]  # coordinator
    assert steps_for(attempting, "ikiiki-katase", coordinator_agency=False) == ()  # involved, but not a worker
    assert steps_for(an_engagement(state="in-contact"), "csw-katase", coordinator_agency=False)[1] == "consent"
    assert steps_for(an_engagement(state="ended"), "csw-katase", coordinator_agency=False) == ()
    assert steps_for(attempting, None, coordinator_agency=False) == ()  # an auditor


def test_every_code_has_its_words_in_both_languages_and_the_template_compiles() -> None:
    codes = [f"method.{m}" for m in OutreachMethod] + [f"result.{r}" for r in OutreachResult]
    codes += [f"ending.{e}" for e in OutreachEnding] + [f"state.{s}" for s in (*STEPS, "ended")]
    codes += [f"done.{step}" for step in ("attempts", "contact", "consent", "end")]
    missing = [code for code in codes if code not in text.OUTREACH]
    assert not missing, missing
    assert all(ja and en and ja != en for ja, en in text.OUTREACH.values())
    assert page_environment().get_template("outreach.html") is not None

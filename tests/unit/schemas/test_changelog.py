"""A contract's version is its type's major version and the number of changes recorded for it since."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schemas.changelog import CHANGELOG, Change, changes_of, contract_history, major_of, version_of

DECLINED = "referral.referral.declined.v1"


def test_a_contract_with_no_recorded_change_is_at_its_first_release() -> None:
    assert version_of(DECLINED, CHANGELOG) == f"1.{len(changes_of(DECLINED, CHANGELOG))}"
    assert version_of("referral.referral.declined.v2", Path("/dev/null")) == "2.0"
    assert contract_history("referral.referral.declined.v2", Path("/dev/null")) == "2.0"


def test_each_recorded_change_makes_the_next_minor_version(tmp_path: Path) -> None:
    changelog = tmp_path / "changelog.toml"
    changelog.write_text(
        f'[[change]]\ncontract = "{DECLINED}"\ndate = 2027-01-15\nsummary = "An optional role."\n'
        '[[change]]\ncontract = "intake.consent.recorded.v1"\ndate = 2027-02-01\nsummary = "Elsewhere."\n'
        f'[[change]]\ncontract = "{DECLINED}"\ndate = 2027-03-01\nsummary = "An optional team."\n',
        encoding="utf-8",
    )
    assert changes_of(DECLINED, changelog) == [
        Change("1.1", date(2027, 1, 15), "An optional role."),
        Change("1.2", date(2027, 3, 1), "An optional team."),
    ]
    assert version_of(DECLINED, changelog) == "1.2"
    assert contract_history(DECLINED, changelog).startswith("1.2, changed since 1.0: 1.1 (2027-01-15): An optional")


def test_a_contract_name_must_say_its_major_version() -> None:
    assert major_of("intake.consultation.submitted.v3") == 3
    with pytest.raises(ValueError, match="does not end in"):
        major_of("intake.consultation.submitted")

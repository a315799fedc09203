"""What intake tells an agency about the contract it wrote to: the version always, a deprecated field when used."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from services.intake.contract import SUBMISSION_CONTRACT, announcements


class Submission(BaseModel):
    channel: str | None = None
    summary: str | None = None


def changelog_with_a_deprecation(tmp_path: Path) -> Path:
    changelog = tmp_path / "changelog.toml"
    changelog.write_text(
        f'[[change]]\ncontract = "{SUBMISSION_CONTRACT}"\ndate = 2027-01-10\nsummary = "An optional field."\n'
        f'[[deprecation]]\ncontract = "{SUBMISSION_CONTRACT}"\nfield = "channel"\nannounced = 2027-01-15\n'
        'sunset = 2027-07-01\nnote = "Replaced by contact_channel in v2."\n'
        '[[deprecation]]\ncontract = "intake.consultation.submitted.v1"\nfield = "summary"\nannounced = 2027-01-15\n'
        'sunset = 2027-03-01\nnote = "Another contract."\n',
        encoding="utf-8",
    )
    return changelog


def test_every_answer_names_the_contract_and_its_version(tmp_path: Path) -> None:
    assert announcements(Submission(summary="x"), changelog=changelog_with_a_deprecation(tmp_path)) == {
        "Backbone-Contract": f"{SUBMISSION_CONTRACT}; version=1.1"
    }


def test_a_deprecated_field_used_is_announced_with_when_it_goes(tmp_path: Path) -> None:
    headers = announcements(Submission(channel="phone"), changelog=changelog_with_a_deprecation(tmp_path))
    assert headers["Deprecation"] == "@1799971200"  # 2027-01-15T00:00:00Z
    assert headers["Sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
    assert headers["Backbone-Deprecated-Fields"] == "channel"


def test_the_committed_changelog_gives_todays_version() -> None:
    headers = announcements(Submission(channel="phone", summary="x"))
    assert headers["Backbone-Contract"].startswith(f"{SUBMISSION_CONTRACT}; version=1.")

from __future__ import annotations

from pathlib import Path

import pytest

from backbone import directory
from backbone.directory import DirectoryError
from schemas.vocabulary import District


def test_the_directory_has_every_district_and_the_programmes_agencies() -> None:
    loaded = directory.load()
    assert set(loaded.districts) == set(District)
    for district in District:
        assert loaded.csw(district) is not None
    assert {"fukushi-sogo", "backup-fujisawa", "backup-fujisawa-shakyo", "shogai-kikan"} <= loaded.agencies.keys()


def test_a_bad_entry_stops_loading_with_the_line_and_the_problem(tmp_path: Path) -> None:
    text = directory.DIRECTORY_FILE.read_text(encoding="utf-8")
    broken = text.replace('domains = ["single-parent", "poverty"]', 'domains = ["single-parent", "astrology"]', 1)
    path = tmp_path / "directory.toml"
    path.write_text(broken, encoding="utf-8")
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "astrology" in text)
    with pytest.raises(DirectoryError, match=rf"directory.toml:{line}: \[\[agency\]\] .*hitorioya.*domains\.1"):
        directory.load(path)


def test_a_duplicate_id_and_a_syntax_error_are_named(tmp_path: Path) -> None:
    text = directory.DIRECTORY_FILE.read_text(encoding="utf-8")
    path = tmp_path / "directory.toml"
    path.write_text(text.replace('id = "hitorioya"', 'id = "gakko-kyoiku"'), encoding="utf-8")
    with pytest.raises(DirectoryError, match="'gakko-kyoiku' is listed twice"):
        directory.load(path)
    path.write_text(text + "\n[[agency]\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="line"):
        directory.load(path)

"""The service directory: the districts and agencies of the programme, as data in schemas/directory.toml.

Shared reference data: referral routes by it, meetings checks 支援会議 membership in it.

Validated when loaded; a bad file stops start-up with a message naming the line and the problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.submission import AGENCY_ID_PATTERN
from schemas.vocabulary import AgencyType, District, SupportDomain

DIRECTORY_FILE = Path(__file__).resolve().parents[1] / "schemas" / "directory.toml"
CITY_WIDE = "*"


class Capacity(StrEnum):
    AVAILABLE = "available"
    WAITLIST = "waitlist"  # proposed, and shown as waitlisted
    NONE = "none"  # skipped by routing


class DistrictEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: District
    name: str = Field(min_length=1)
    population_65: int = Field(gt=0)
    ageing_rate: float = Field(gt=0, lt=100)


class PlaceKind(StrEnum):
    """What a 参加支援 / 地域づくり resource is (the seed's pages on 地域の縁側 and 「重層事業」のイメージ)."""

    ENGAWA_BASIC = "engawa-basic"  # 地域の縁側 基本型: anyone may drop in
    ENGAWA_SPECIFIC = "engawa-specific"  # 特定型: for one generation or group
    ENGAWA_CORE = "engawa-core"  # 基幹型: the district's core 縁側, with a 生活支援コーディネーター
    SUPPORT_MENU = "support-menu"  # 支援メニュー: 就労準備支援, 一時生活支援, 子どもの学習・生活支援, 農福連携
    WELFARE_PLAZA = "welfare-plaza"  # 地域福祉活動センター（地域福祉プラザ）
    VOLUNTEER_CENTRE = "volunteer-centre"  # 地区ボランティアセンター
    COMMUNITY_BUILDING = "community-building"  # other 地域づくり resources


class AgencyEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=AGENCY_ID_PATTERN)
    name: str = Field(min_length=1)
    type: AgencyType
    districts: tuple[District | Literal["*"], ...] = Field(
        min_length=1, description='Districts served; ["*"] for city-wide'
    )
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    capacity: Capacity
    support_meeting_member: bool
    on_call: str = Field(min_length=3)
    coordinator: bool
    place: PlaceKind | None = Field(default=None, description="What a community place is ([[place]] entries)")
    answered_by: str | None = Field(
        default=None, description="The coordinator agency that answers this place's referrals for it"
    )

    def serves(self, district: District, domain: SupportDomain) -> bool:
        return domain in self.domains and (CITY_WIDE in self.districts or district in self.districts)

    @property
    def city_wide(self) -> bool:
        return CITY_WIDE in self.districts


class PlaceEntry(BaseModel):
    """A [[place]]: a community place (参加支援 / 地域づくり), written short so the city can list all of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=AGENCY_ID_PATTERN)
    name: str = Field(min_length=1)
    districts: tuple[District | Literal["*"], ...] = Field(min_length=1)
    kind: PlaceKind
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    capacity: Capacity = Capacity.AVAILABLE
    on_call: str | None = Field(default=None, min_length=3)
    answered_by: str | None = None

    def as_agency(self) -> AgencyEntry:
        return AgencyEntry(
            id=self.id,
            name=self.name,
            type=AgencyType.COMMUNITY_PLACE,
            districts=self.districts,
            domains=self.domains,
            capacity=self.capacity,
            support_meeting_member=False,
            on_call=self.on_call or f"oncall@{self.id}.fujisawa-backbone.invalid",
            coordinator=False,
            place=self.kind,
            answered_by=self.answered_by,
        )


class DirectoryError(ValueError):
    """The directory file is invalid; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Directory:
    districts: dict[District, DistrictEntry]
    agencies: dict[str, AgencyEntry]

    def agency(self, agency_id: str) -> AgencyEntry | None:
        return self.agencies.get(agency_id)

    def coordinators(self) -> list[AgencyEntry]:
        return [agency for agency in self.agencies.values() if agency.coordinator]

    def places(self) -> list[AgencyEntry]:
        """The 参加支援 / 地域づくり resources (community places), in the file's order."""
        return [a for a in self.agencies.values() if a.type is AgencyType.COMMUNITY_PLACE]

    def is_place(self, agency_id: str) -> bool:
        entry = self.agency(agency_id)
        return entry is not None and entry.type is AgencyType.COMMUNITY_PLACE

    def holds_outreach(self, agency_id: str) -> bool:
        """アウトリーチ等を通じた継続的支援 is held by the coordinators (バックアップふじさわ, 社協) and the district
        CSWs: the outreach roles of a meeting's plan (meetings) and the engagements they become (referral)."""
        entry = self.agency(agency_id)
        return entry is not None and (entry.coordinator or entry.type is AgencyType.DISTRICT_CSW)

    def answered_for(self, agency_id: str) -> frozenset[str]:
        """The places this agency answers for (their `answered_by`): empty for most agencies."""
        return frozenset(a.id for a in self.agencies.values() if a.answered_by == agency_id)

    def answers_for(self, agency_id: str, place_id: str) -> bool:
        place = self.agency(place_id)
        return place is not None and place.answered_by == agency_id

    def csw(self, district: District) -> AgencyEntry | None:
        return next(
            (a for a in self.agencies.values() if a.type is AgencyType.DISTRICT_CSW and district in a.districts), None
        )

    def with_capacity(self, agency_id: str, capacity: Capacity) -> Directory:
        """A copy with one agency's capacity changed (capacity is operational state, overlaid on the file)."""
        agencies = dict(self.agencies)
        agencies[agency_id] = agencies[agency_id].model_copy(update={"capacity": capacity})
        return Directory(self.districts, agencies)


def load(path: Path = DIRECTORY_FILE) -> Directory:
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DirectoryError(f"{path}: {error}") from None
    unknown = set(data) - {"district", "agency", "place"}
    if unknown:
        raise DirectoryError(
            f"{path}: unknown table(s) {sorted(unknown)}; only [[district]], [[agency]] and [[place]] are allowed"
        )
    districts = {entry.id: entry for entry in _entries(path, text, "district", data.get("district", []), DistrictEntry)}
    missing = set(District) - set(districts)
    if missing:
        raise DirectoryError(f"{path}: districts missing: {sorted(missing)}")
    agencies: dict[str, AgencyEntry] = {}
    places = [p.as_agency() for p in _entries(path, text, "place", data.get("place", []), PlaceEntry)]
    for entry in [*_entries(path, text, "agency", data.get("agency", []), AgencyEntry), *places]:
        if entry.id in agencies:
            raise DirectoryError(f"{path}:{_line_of(text, entry.id)}: agency {entry.id!r} is listed twice")
        agencies[entry.id] = entry
    if not any(agency.coordinator for agency in agencies.values()):
        raise DirectoryError(f"{path}: no agency has coordinator = true; multi-agency coordination needs one")
    for entry in agencies.values():
        answering = agencies.get(entry.answered_by or "")
        if entry.answered_by is not None and (answering is None or not answering.coordinator):
            raise DirectoryError(
                f"{path}:{_line_of(text, entry.id)}: {entry.id}: answered_by {entry.answered_by!r} must be an agency"
                " with coordinator = true (its staff see every case)"
            )
        if (entry.place is not None or entry.answered_by is not None) and entry.type is not AgencyType.COMMUNITY_PLACE:
            raise DirectoryError(
                f"{path}:{_line_of(text, entry.id)}: {entry.id}: place and answered_by are for community places;"
                " write it as a [[place]]"
            )
    return Directory(districts, agencies)


M = TypeVar("M", DistrictEntry, AgencyEntry, PlaceEntry)


def _entries(path: Path, text: str, table: str, rows: list[dict[str, object]], model: type[M]) -> list[M]:
    entries = []
    for index, row in enumerate(rows):
        try:
            entries.append(model.model_validate(row))
        except ValidationError as error:
            item = error.errors()[0]
            field = ".".join(map(str, item["loc"]))
            line = _line_of_field(text, table, index, str(item["loc"][0]))
            raise DirectoryError(
                f"{path}:{line}: [[{table}]] #{index + 1} ({row.get('id', '?')}): {field}: {item['msg']}"
            ) from None
    return entries


def _table_starts(text: str, table: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if line.strip() == f"[[{table}]]"]


def _line_of_field(text: str, table: str, index: int, field: str) -> int:
    """The line of `field` inside the index-th [[table]] (or of the table header when the field is absent)."""
    lines = text.splitlines()
    start = _table_starts(text, table)[index]
    tables = ("district", "agency", "place")
    following = [n for name in tables for n in _table_starts(text, name) if n > start]
    for number in range(start + 1, min(following, default=len(lines) + 1)):
        if lines[number - 1].split("=")[0].strip() == field:
            return number
    return start


def _line_of(text: str, agency_id: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.split("#")[0].replace(" ", "") == f'id="{agency_id}"':
            return number
    return 0

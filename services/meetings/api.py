"""meetings' HTTP API: request, schedule, reschedule, cancel and hold meetings; confirm plans; invitations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backbone.agencies import Agency
from backbone.calendar import fiscal_year_bounds, reiwa
from backbone.callers import CallingAgency, involved, not_involved
from backbone.http import problem
from backbone.invitations import Invitation, render
from backbone.service import Runtime
from schemas.events import MeetingCancelReason, MeetingKind, MeetingPurpose, MeetingReason, PlanRole
from schemas.submission import AgencyNote
from services.meetings.agenda import AGENDA_LIMIT, AGENDA_MAX
from services.meetings.casebook import Casebook, MeetingRefusedError, meeting_view
from services.meetings.conveners import NOT_A_COORDINATOR, may_convene
from services.meetings.lifecycle import Change, MeetingOverError, State, transition
from services.meetings.store import MeetingStore, Row

router = APIRouter(prefix="/v1", tags=["meetings"])


class MeetingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: UUID
    kind: MeetingKind
    purpose: MeetingPurpose | None = Field(
        default=None,
        description="会議の目的, one of the kind's two: plan-confirmation (①) or participation-plan (② 参加支援) for"
        " consent-based; no-consent-conference (①) or outreach-plan (② アウトリーチ) for confidential. Absent: ①",
    )
    participants: tuple[str, ...] = Field(min_length=1, max_length=30)
    reason: MeetingReason = Field(default=MeetingReason.ASKED, description="Why, as a code: `asked` if absent")
    note: AgencyNote = ""


class Times(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime | None = Field(default=None, description="Absent: take the proposed time")
    ends_at: AwareDatetime | None = None
    participants: tuple[str, ...] | None = Field(default=None, description="Absent: keep the participants")


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: MeetingCancelReason = Field(
        description="Required: no-longer-needed, person-declined, consent-withdrawn, replaced or other"
    )
    note: AgencyNote = ""


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goals: list[str] = Field(min_length=1, max_length=10, description="支援プランの目標 (kept here, never on the bus)")
    roles: tuple[PlanRole, ...] = Field(min_length=1, max_length=20)
    review_on: date


def _book(request: Request) -> Casebook:
    book: Casebook = request.app.state.casebook
    return book


def _refused(error: MeetingRefusedError) -> JSONResponse:
    return problem(422, "The meeting cannot be held so", str(error), type_="urn:jp:fujisawa:welfare:problem:meeting")


@router.post("/meetings", status_code=201, summary="Request a meeting for a case (a time is proposed)")
async def request_meeting(body: MeetingRequest, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            # Only an agency involved in the case may convene on it (and so learn that it exists).
            if not await runtime.involvement.is_involved(conn, body.case_id, agency.id):
                return not_involved()
            book = _book(request)
            event = await book.propose(
                book.on(conn),
                case_id=body.case_id,
                organizer=agency.id,
                kind=body.kind,
                purpose=body.purpose,
                participants=body.participants,
                reason=body.reason,
                note=body.note,
                now=datetime.now(UTC),
                by_staff=agency.by_staff,
            )
    except MeetingRefusedError as error:
        return _refused(error)
    return event


async def _change(
    runtime: Runtime,
    meeting_id: UUID,
    agency: Agency,
    request: Request,
    kind: Change,
    *,
    change: Callable[[MeetingStore, Row, Casebook], Awaitable[Any]],
) -> Any:
    book = _book(request)
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            store = book.on(conn)
            meeting = await store.meeting(meeting_id, for_update=True)
            if meeting is None or not await runtime.involvement.is_involved(conn, meeting["case_id"], agency.id):
                return not_involved()
            entry = book.directory.agency(agency.id)
            if meeting["organizer"] != agency.id and not (entry and entry.coordinator):
                return problem(403, "Not your meeting", "Only its organizer or a coordinator may change a meeting.")
            if not may_convene(agency):
                return problem(403, "Coordinators only", NOT_A_COORDINATOR)
            try:
                transition(State(meeting["state"]), kind)
            except MeetingOverError as over:
                return problem(409, "The meeting is over", str(over))
            return await change(store, meeting, book)
    except MeetingRefusedError as error:
        return _refused(error)


@router.post("/meetings/{meeting_id}/schedule", summary="Fix the time (the proposed one by default); reschedule")
async def schedule(meeting_id: UUID, body: Times, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    async def fix(store: MeetingStore, meeting: Row, book: Casebook) -> Any:
        return await book.schedule(
            store,
            meeting,
            starts_at=body.starts_at or meeting["starts_at"],
            ends_at=body.ends_at or meeting["ends_at"],
            participants=body.participants or tuple(meeting["participants"]),
            now=datetime.now(UTC),
            by_staff=agency.by_staff,
        )

    return await _change(runtime, meeting_id, agency, request, Change.SCHEDULE, change=fix)


@router.post("/meetings/{meeting_id}/cancel", summary="Cancel, with a reason")
async def cancel(
    meeting_id: UUID, body: Cancellation, request: Request, runtime: Runtime, agency: CallingAgency
) -> Any:
    return await _change(
        runtime,
        meeting_id,
        agency,
        request,
        Change.CANCEL,
        change=lambda store, meeting, book: book.cancel(
            store, meeting, body.reason, datetime.now(UTC), note=body.note, by_staff=agency.by_staff
        ),
    )


class Held(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="When it was held, if convened earlier at short notice")


@router.post(
    "/meetings/{meeting_id}/held", summary="Record that the meeting took place (as planned, or at short notice)"
)
async def held(
    meeting_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency, body: Held | None = None
) -> Any:
    at = body.at if body else None
    return await _change(
        runtime,
        meeting_id,
        agency,
        request,
        Change.HOLD,
        change=lambda store, meeting, book: book.hold(
            store, meeting, datetime.now(UTC), at=at, by_staff=agency.by_staff
        ),
    )


@router.post("/meetings/{meeting_id}/plan", status_code=201, summary="Confirm the support plan (支援プラン)")
async def confirm_plan(meeting_id: UUID, body: Plan, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    book = _book(request)
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            store = book.on(conn)
            meeting = await store.meeting(meeting_id, for_update=True)
            if meeting is None or not await runtime.involvement.is_involved(conn, meeting["case_id"], agency.id):
                return not_involved()
            if agency.id != meeting["organizer"]:
                return problem(403, "Not your meeting", "The organizer confirms the plan the meeting agreed.")
            if not may_convene(agency):
                return problem(403, "Coordinators only", NOT_A_COORDINATOR)
            return await book.confirm_plan(
                store,
                meeting,
                goals=body.goals,
                roles=body.roles,
                review_on=body.review_on,
                by=agency.id,
                now=datetime.now(UTC),
                by_staff=agency.by_staff,
            )
    except MeetingRefusedError as error:
        return _refused(error)


async def _readable(request: Request, runtime: Runtime, meeting_id: UUID, agency: Agency) -> Row | JSONResponse:
    """A meeting's records go to its organizer and participants only (a 支援会議's to members, by the law)."""
    async with runtime.pool.acquire() as conn:
        meeting = await _book(request).on(conn).meeting(meeting_id)
    if meeting is None or (agency.id != meeting["organizer"] and agency.id not in meeting["participants"]):
        return problem(403, "Not disclosed", "Only the meeting's organizer and participants may see it.")
    return meeting


@router.get(
    "/meetings",
    summary="Your agency's meetings: of one case, or (without case_id) across its cases, those not over first",
    responses={404: {"description": "Not found for your agency (the same answer whether or not the case exists)"}},
)
async def meetings_of_agency(
    request: Request,
    runtime: Runtime,
    agency: CallingAgency,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=AGENDA_MAX, description="Without case_id: at most this many")] = AGENDA_LIMIT,
) -> Any:
    """With `case_id`, the case's meetings your agency organises or attends (the agencies involved in the case);
    without it, your agency's agenda: every meeting it organises or attends (services/meetings/agenda.py says
    why a coordinator's agenda is not every meeting of the city)."""
    book = _book(request)
    if case_id is None:
        async with runtime.pool.acquire() as conn:
            rows = await book.on(conn).agenda(agency.id, now=datetime.now(UTC), limit=limit)
        return [meeting_view(row) for row in rows]
    if not await involved(runtime, case_id, agency):
        return not_involved()
    # Involved in the case is not enough for a meeting's records: a 支援会議's go to its members only.
    async with runtime.pool.acquire() as conn:
        rows = await book.on(conn).of_case_for(case_id, agency.id)
    return [meeting_view(row) for row in rows]


@router.get("/meetings/{meeting_id}", summary="A meeting and its support plan (to its organizer and participants)")
async def meeting(meeting_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    found = await _readable(request, runtime, meeting_id, agency)
    if isinstance(found, JSONResponse):
        return found
    async with runtime.pool.acquire() as conn:
        plan = await _book(request).on(conn).plan_of(meeting_id)
    return {**meeting_view(found), "plan": plan}


@router.get(
    "/meetings/{meeting_id}/invitation.ics",
    summary="The invitation as iCalendar (RFC 5545)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def invitation(meeting_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Response:
    found = await _readable(request, runtime, meeting_id, agency)
    if isinstance(found, JSONResponse):
        return found
    book = _book(request)

    def address(agency_id: str) -> tuple[str, str]:
        entry = book.directory.agency(agency_id)
        return agency_id, entry.on_call if entry else f"{agency_id}@fujisawa-backbone.invalid"

    text = render(
        Invitation(
            meeting_id=found["meeting_id"],
            case_id=found["case_id"],
            kind=MeetingKind(found["kind"]),
            starts_at=found["starts_at"],
            ends_at=found["ends_at"],
            sequence=found["sequence"],
            organizer=address(found["organizer"]),
            attendees=tuple(address(a) for a in found["participants"]),
            cancelled=found["state"] == State.CANCELLED,
        )
    )
    return Response(text, media_type="text/calendar; charset=utf-8")


@router.get(
    "/figures", summary="Meetings per fiscal year (April–March), by kind, purpose and outcome — the city's 実績"
)
async def figures(
    request: Request, runtime: Runtime, _: CallingAgency, fiscal_year: Annotated[int, Query(ge=2019, le=2100)]
) -> Any:
    """`meetings` counts by kind and state; `purposes` by each kind's purpose ① and ② and state, as the city
    reports them (令和5年度: 重層的支援会議 6件, mainly ②; 支援会議 9件)."""
    start, end = fiscal_year_bounds(fiscal_year)
    async with runtime.pool.acquire() as conn:
        rows = await _book(request).on(conn).counts(start, end)
    counts: dict[str, dict[str, int]] = {kind: {} for kind in MeetingKind}
    purposes: dict[str, dict[str, dict[str, int]]] = {
        kind: {purpose: {} for purpose in MeetingPurpose if purpose.kind is kind} for kind in MeetingKind
    }
    for row in rows:
        counts[row["kind"]][row["state"]] = counts[row["kind"]].get(row["state"], 0) + row["n"]
        purposes[row["kind"]][row["purpose"]][row["state"]] = row["n"]
    return {
        "fiscal_year": fiscal_year,
        "label": reiwa(fiscal_year),
        "from": start,
        "until": end,
        "meetings": counts,
        "purposes": purposes,
        "purpose_labels": {purpose: purpose.japanese for purpose in MeetingPurpose},
    }

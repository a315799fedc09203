"""The auditors' API, and the front page that sends auditors to the workbench. Only the auditor role reads the
ledger whole, and every such query is itself recorded. One read is the agencies': a case's history as far as
the calling agency is involved in it (services/audit/case_history.py), for the workbench's case pages; it
shows only what the services already show that agency, so it is not recorded as an audit query."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from backbone.agencies import Agency
from backbone.callers import CallingAgency, not_involved
from backbone.service import Runtime
from schemas.events import AgencyId
from schemas.vocabulary import AgencyType
from services.audit import case_history, queries
from services.audit.ledger import Signer
from services.audit.page import front_page
from services.audit.recording import record_query

router = APIRouter(prefix="/v1", tags=["audit"])


def _auditor(agency: CallingAgency) -> Agency:
    if agency.type is not AgencyType.AUDITOR:
        raise HTTPException(403, "Only the auditor role may read the ledger; ask for an auditor token.")
    return agency


Auditor = Annotated[Agency, Depends(_auditor)]


def _who(auditor: Agency) -> str:
    """Who asked, on the ledger: a signed-in auditor by the provider's subject id, an auditor token by its name."""
    return f"staff:{auditor.by_staff}" if auditor.by_staff else auditor.id


Language = Annotated[Literal["ja", "en"], Query(description="Labels in Japanese or English")]


TraceId = Annotated[
    str | None,
    Query(
        pattern="^[0-9a-f]{32}$",
        description="A W3C trace id, 32 lowercase hex digits, as intake returns it with each consultation",
    ),
]


def _which(case_id: UUID | None = None, referral_id: UUID | None = None, trace_id: TraceId = None) -> tuple[str, str]:
    """Exactly one of the three query parameters: what the timeline is of."""
    given = [(k, str(v)) for k, v in (("case", case_id), ("referral", referral_id), ("trace", trace_id)) if v]
    if len(given) != 1:
        raise HTTPException(422, "Give exactly one of case_id, referral_id or trace_id.")
    return given[0]


Selection = Annotated[tuple[str, str], Depends(_which)]


async def _timeline(
    request: Request, runtime: Runtime, auditor: Agency, *, kind: str, key: str, language: str
) -> list[dict[str, Any]]:
    signer: Signer = request.app.state.signer
    async with runtime.pool.acquire() as conn, conn.transaction():
        await record_query(conn, signer, auditor=_who(auditor), query=f"timeline:{kind}", params={kind: key})
        if kind == "case":
            entries = await queries.case_timeline(conn, UUID(key))
        elif kind == "referral":
            entries = await queries.referral_timeline(conn, UUID(key))
        else:
            entries = await queries.trace_timeline(conn, key)
    return [queries.as_row(entry, language) | {"data": entry.get("data")} for entry in entries]


@router.get("/timeline", summary="The timeline of a case, a referral or a trace id")
async def timeline(
    request: Request, runtime: Runtime, auditor: Auditor, selection: Selection, language: Language = "ja"
) -> Any:
    kind, key = selection
    return await _timeline(request, runtime, auditor, kind=kind, key=key, language=language)


@router.get("/timeline.csv", summary="The same timeline as CSV", response_class=Response)
async def timeline_csv(
    request: Request, runtime: Runtime, auditor: Auditor, selection: Selection, language: Language = "ja"
) -> Response:
    kind, key = selection
    rows = await _timeline(request, runtime, auditor, kind=kind, key=key, language=language)
    out = io.StringIO()
    columns = ["seq", "time", "what", "who", "why", "event_id", "caused_by", "trace_id", "topic"]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="timeline-{key}.csv"'},
    )


@router.get("/disclosures", summary="Personal-data disclosures, allowed and denied, by case or agency")
async def disclosures(
    request: Request, runtime: Runtime, auditor: Auditor, case_id: UUID | None = None, agency: AgencyId | None = None
) -> Any:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await record_query(
            conn,
            request.app.state.signer,
            auditor=_who(auditor),
            query="disclosures",
            params={"case_id": str(case_id or ""), "agency": agency or ""},
        )
        return await queries.disclosures(conn, case_id=case_id, agency=agency)


@router.get("/unanswered", summary="Referrals overdue or declined, per agency")
async def unanswered(request: Request, runtime: Runtime, auditor: Auditor) -> Any:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await record_query(conn, request.app.state.signer, auditor=_who(auditor), query="unanswered", params={})
        return await queries.unanswered_by_agency(conn)


@router.get("/yearly", summary="Counts per fiscal year (April–March), with the reason codes given")
async def yearly(
    request: Request,
    runtime: Runtime,
    auditor: Auditor,
    # 令和元年度 (FY2019) is the programme's first; the upper bound keeps dates within what PostgreSQL and
    # Python can represent (fiscal year 1,845,081 once answered 500 instead of 422).
    fiscal_year: Annotated[int, Query(ge=2019, le=9998)],
    language: Language = "ja",
) -> Any:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await record_query(
            conn,
            request.app.state.signer,
            auditor=_who(auditor),
            query="yearly",
            params={"fiscal_year": str(fiscal_year)},
        )
        return await queries.yearly(conn, fiscal_year, language)


class HistoryEntry(BaseModel):
    """One record of a case's history, for the staff of an agency involved in it."""

    occurred_at: datetime | None
    event_type: str
    what: str = Field(description="What happened, in the language asked for")
    why: str = Field(description="The reason code in words, for a record that gives one; else empty")
    agencies: list[str] = Field(description="Who acted, then who was addressed (agency ids)")
    by_staff: str | None = Field(description="The opaque subject id of the staff member who acted, if one did")
    referral_id: str | None
    meeting_id: str | None
    outcome: str | None = Field(description="A completed referral's outcome code")


@router.get(
    "/cases/{case_id}/history",
    response_model=list[HistoryEntry],
    tags=["cases"],
    summary="A case's history as far as your agency is involved in it (to the agencies involved in the case)",
)
async def case_history_for_agency(
    case_id: UUID, runtime: Runtime, agency: CallingAgency, language: Language = "ja"
) -> Any:
    """The ledger's records of the case that the calling agency may see (services/audit/case_history.py). An
    agency not involved gets the answer for a case that does not exist; auditors read the whole timeline."""
    if agency.type is AgencyType.AUDITOR:
        raise HTTPException(403, "Auditors read a case's whole timeline at /v1/timeline?case_id=.")
    async with runtime.pool.acquire() as conn:
        entries = await queries.case_timeline(conn, case_id)
    coordinator = runtime.involvement.is_coordinator(agency.id)
    if not entries or not (coordinator or agency.id in case_history.involved_agencies(entries)):
        return not_involved()
    return [_history_entry(entry, language) for entry in case_history.as_far_as(agency.id, entries)]


def _history_entry(entry: dict[str, Any], language: str) -> HistoryEntry:
    data = entry.get("data") or {}
    return HistoryEntry(
        occurred_at=entry.get("occurred_at"),
        event_type=entry["event_type"],
        what=queries.label(entry["event_type"], language),
        why=queries.why(entry["event_type"], data, language),
        agencies=queries.agencies_named(data),
        by_staff=data.get("by_staff"),
        referral_id=data.get("referral_id"),
        meeting_id=str(data["meeting_id"]) if data.get("meeting_id") else None,
        outcome=data.get("outcome") if "referral_id" in data else None,
    )


page_router = APIRouter(tags=["audit"])


@page_router.get("/", response_class=HTMLResponse, summary="Where auditors go: the workbench's auditors' pages (監査)")
async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(front_page(request.app.state.audit.workbench_url))

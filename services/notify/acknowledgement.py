"""The acknowledgement link of a notification e-mail (確認リンク): a page, and a button that acknowledges.

Mail security gateways of city offices fetch every link of a message (GET, HEAD, prefetches) before the
person reads it. Had opening the link acknowledged, every urgent notification would be acknowledged by
a machine and never climb the ladder. So:

- `GET /v1/ack/{id}?token=…` (and HEAD) only shows what is being acknowledged: the case id, why it was
  sent, its urgency and when, never personal data. It changes nothing and may be fetched any number of
  times, by anyone or anything.
- Only `POST /v1/ack/{id}`, which the page's button sends, acknowledges (`via="link"`).

Where the token travels. The token proves that whoever acknowledges received the e-mail. The e-mail's
link carries it in the query string, which every mail client and gateway keeps intact (a URL fragment
would not reach a server that renders the page without scripts; a path segment would be written to
every access log and span as the route's path). The query string, in turn, is written nowhere: the
services' access logs record the path only (`backbone.http.ACCESS_LOG_CONFIG`), and server spans
record `url.path` only. The page's form posts the token in the request body, never in its URL, so the
acknowledging request leaves no token in any log either. The page answers `Cache-Control: no-store`
(no proxy or browser keeps a copy), `Referrer-Policy: no-referrer` (the token-bearing URL is not sent
on), `X-Robots-Tag: noindex`, and a Content-Security-Policy that allows no script and no framing (the
button cannot be overlaid by another site).

A wrong token is refused before the database is read, with the same 404 page whether the notification
exists or not, and tokens are compared in constant time.

The page's facts come from the store's page reads (`services.notify.store.acknowledgement_facts`), the button's
acknowledgement from the store itself, in one transaction (`record_acknowledgement`); this module holds no SQL.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from html import escape
from typing import Annotated
from urllib.parse import parse_qs
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from backbone.calendar import TOKYO
from backbone.service import Runtime
from services.notify.api import record_acknowledgement
from services.notify.deliveries import Notifier
from services.notify.messages import CATEGORIES, URGENCY
from services.notify.store import Row, acknowledgement_facts

router = APIRouter(prefix="/v1", tags=["notifications"])

PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"token": {"type": "string", "description": "The token of the page's form"}},
                    "required": ["token"],
                }
            }
        },
    }
}


def genuine(notifier: Notifier, notification_id: UUID, token: str) -> bool:
    """The token is the one sent with this notification (compared in constant time)."""
    return hmac.compare_digest(notifier.ack_token(notification_id).encode(), token.encode())


@router.get(
    "/ack/{notification_id}",
    response_class=HTMLResponse,
    summary="The link in a notification: shows what is acknowledged, with a button; changes nothing (確認ページ)",
    responses={
        404: {
            "description": "The link is not valid: the same page whether the notification exists or not",
            "content": {"text/html": {}},
        }
    },
)
@router.head("/ack/{notification_id}", response_class=HTMLResponse, include_in_schema=False)
async def acknowledgement_page(
    notification_id: UUID, request: Request, runtime: Runtime, token: Annotated[str, Query(max_length=256)] = ""
) -> HTMLResponse:
    if not genuine(_notifier(request), notification_id, token):
        return _not_valid()
    facts = await acknowledgement_facts(runtime.pool, notification_id)
    if facts is None:
        return _not_valid()
    return _page(notification_id, facts, token)


@router.post(
    "/ack/{notification_id}",
    response_class=HTMLResponse,
    summary="The button on the link's page: acknowledges the notification (確認しました); the token in the form body",
    responses={404: {"description": "The link is not valid", "content": {"text/html": {}}}},
    openapi_extra=FORM_BODY,
)
async def acknowledge_from_page(notification_id: UUID, request: Request, runtime: Runtime) -> HTMLResponse:
    notifier = _notifier(request)
    token = parse_qs((await request.body()).decode("utf-8", "replace")).get("token", [""])[0]
    if not genuine(notifier, notification_id, token):
        return _not_valid()
    async with runtime.pool.acquire() as conn, conn.transaction():
        store = notifier.on(conn)
        # The token proves the e-mail was received: whoever holds it acknowledges as the agency it was sent to.
        agency = await store.addressee(notification_id)
        answer = await record_acknowledgement(store, notification_id, agency or "", "link")
    if isinstance(answer, JSONResponse):
        return _not_valid()
    return _html(
        "確認しました / Acknowledged",
        f"<p>確認しました。ありがとうございます。<br>Acknowledged. Thank you.</p><p>通知ID / notification id:"
        f" <code>{notification_id}</code></p>",
    )


def _notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


def _page(notification_id: UUID, row: Row, token: str) -> HTMLResponse:
    sent: datetime = row["delivered_at"] or row["created_at"]
    facts = [
        ("ケースID / case id", f"<code>{row['case_id']}</code>"),
        ("通知ID / notification id", f"<code>{notification_id}</code>"),
        ("内容 / reason", _both(CATEGORIES, row["category"])),
        ("緊急度 / urgency", _both(URGENCY, row["urgency"])),
        ("送信 / sent (JST)", escape(sent.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"))),
    ]
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in facts)
    if row["acknowledged_at"] is not None:
        at = row["acknowledged_at"].astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
        action = f"<p>この通知は {at} に確認済みです。<br>This notification was acknowledged at {at} (JST).</p>"
    else:
        # A relative action: the same path without the query string, also behind a proxy that adds a prefix.
        action = (
            f'<form method="post" action="{notification_id}"><input type="hidden" name="token" value="{escape(token)}">'
            "<p>内容を確認したら、ボタンを押してください。このページを開いただけでは確認になりません。<br>"
            "Press the button once you have read it. Opening this page acknowledges nothing.</p>"
            '<button type="submit">確認しました / Acknowledge</button></form>'
        )
    return _html("通知の確認 / Acknowledge a notification", f"<table>{table}</table>{action}")


def _both(texts: dict[str, dict[str, str]], code: str) -> str:
    return escape(f"{texts['ja'].get(code, code)} / {texts['en'].get(code, code)}")


def _not_valid() -> HTMLResponse:
    return _html(
        "無効なリンク / Link not valid",
        "<p>このリンクは無効です。メールのリンクをそのまま開いてください。<br>"
        "This link is not valid. Open the link exactly as it is in the e-mail.</p>",
        status_code=404,
    )


def _html(title: str, content: str, status_code: int = 200) -> HTMLResponse:
    page = (
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        f'<meta name="viewport" content="width=device-width"><title>{title}</title><style>'
        'body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:1.5rem;color:#222;max-width:40rem}'
        "th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}"
        "button{font-size:1.1rem;padding:.5rem 1rem}"
        f"</style></head><body><h1>{title}</h1>{content}</body></html>"
    )
    return HTMLResponse(page, status_code=status_code, headers=PRIVATE)

"""A mail security gateway fetches every link of an urgent notification before anyone reads it: nothing is
acknowledged, the notification still climbs the ladder, and only the page's button acknowledges."""

from __future__ import annotations

import re
import uuid
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from schemas.events import NotificationAcknowledged, NotificationEscalated
from tests.integration.kafka_tools import eventually
from tests.integration.receivers import SmtpCatcher
from tests.integration.services import RunningServices
from tests.integration.test_notify import consult, deliveries

ON_CALL = "oncall@ikiiki-goshomi.fujisawa-backbone.invalid"
SUPERVISOR = "supervisor@ikiiki-goshomi.fujisawa-backbone.invalid"
# How gateways and browsers fetch ahead of a person: plain, HEAD only, and announced prefetches.
SCANS: list[tuple[str, dict[str, str]]] = [
    ("GET", {"User-Agent": "Mozilla/5.0 (compatible; LinkScanner/1.0)"}),
    ("HEAD", {"User-Agent": "Mozilla/5.0 (compatible; LinkScanner/1.0)"}),
    ("GET", {"Purpose": "prefetch", "Sec-Purpose": "prefetch", "Sec-Fetch-Mode": "no-cors"}),
]


class _Page(HTMLParser):
    """Every URL an HTML document names, and its forms with their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.fields: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        self.urls += [named[key] for key in ("href", "src", "action") if key in named]
        if tag == "form":
            self.forms.append(named)
            self.fields.append({})
        elif tag == "input" and self.fields and "name" in named:
            self.fields[-1][named["name"]] = named.get("value", "")


def links(mail: Message) -> set[str]:
    """Every link in every text part of the message: plain text, HTML, calendar."""
    found: set[str] = set()
    for part in mail.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        text = payload.decode(part.get_content_charset() or "utf-8")
        found |= set(re.findall(r"https?://[^\s<>\"']+", text))
        if part.get_content_subtype() == "html":
            page = _Page()
            page.feed(text)
            found |= {url for url in page.urls if url.startswith("http")}
    return found


def notify_client(services: RunningServices) -> httpx.AsyncClient:
    """A client with nothing of its own: no cookies, no credentials, as a gateway fetches."""
    return services.client("notify")


async def published(services: RunningServices, event_type: str, notification_id: str) -> int:
    """How many events of the type notify wrote about the notification (its outbox: the only way out)."""
    return int(
        await services.runtime("notify").pool.fetchval(
            "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = $1"
            " AND convert_from(payload, 'UTF8')::jsonb->>'notification_id' = $2",
            event_type,
            notification_id,
        )
    )


async def test_a_mail_gateway_fetching_every_link_acknowledges_nothing_and_the_notification_still_escalates(
    services: RunningServices, smtp: SmtpCatcher
) -> None:
    name = f"走査{uuid.uuid4().hex[:5]}"
    case_id = await consult(services, "goshomi", ["elderly"], name)
    await eventually(lambda: any(m["X-Backbone-Case"] == case_id for m in smtp.to(ON_CALL)), within=30)
    (mail,) = [m for m in smtp.to(ON_CALL) if m["X-Backbone-Case"] == case_id]
    notification_id = mail["Message-ID"].strip("<>").split("@")[0]
    pool = services.runtime("notify").pool

    async def delivered() -> bool:
        state = await pool.fetchval("SELECT state FROM deliveries WHERE notification_id = $1::uuid", notification_id)
        return bool(state == "delivered")

    await eventually(delivered, within=30)

    # The gateway: every link, each fetched as scanners do, by a client with no cookies.
    base = services.apps["notify"].state.notifier.settings.public_base_url
    found = links(mail)
    assert found and all(link.startswith(base) for link in found), found  # every link is one this test can fetch
    pages: list[str] = []
    for link in sorted(found):
        target = urlsplit(link)
        for method, headers in SCANS:
            async with notify_client(services) as gateway:
                answer = await gateway.request(
                    method, f"{target.path}?{target.query}", headers=headers, follow_redirects=True
                )
            assert answer.status_code == 200, (method, headers, answer.text)
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert "noindex" in answer.headers["x-robots-tag"]
            assert not answer.cookies  # nothing to carry from the page to the button
            if method == "GET":
                pages.append(answer.text)
    assert await pool.fetchval(
        "SELECT acknowledged_at IS NULL FROM deliveries WHERE notification_id = $1::uuid", notification_id
    )
    assert await published(services, NotificationAcknowledged.TYPE, notification_id) == 0

    # The page says what would be acknowledged, but nothing about the person.
    page = pages[0]
    assert case_id in page and "つなぎ" in page and "referral" in page and "至急" in page
    for personal in (name, "090-1111-2222", "さんの件", ON_CALL):
        assert personal not in page

    # A forged or missing token: the same 404 page, whether the notification exists or not.
    async with notify_client(services) as stranger:
        refusals = [
            await stranger.get(f"/v1/ack/{notification_id}", params={"token": "0" * 32}),
            await stranger.get(f"/v1/ack/{uuid.uuid4()}", params={"token": "0" * 32}),
            await stranger.get(f"/v1/ack/{notification_id}"),
            await stranger.head(f"/v1/ack/{notification_id}", params={"token": "0" * 32}),
        ]
    assert {answer.status_code for answer in refusals} == {404}
    assert len({answer.text for answer in refusals[:3]}) == 1

    # Nobody pressed the button: the notification climbs when its window closes (moved into the past here).
    await pool.execute(
        "UPDATE deliveries SET escalate_at = now() - interval '1 second' WHERE notification_id = $1::uuid",
        notification_id,
    )

    async def climbed() -> bool:
        return any(
            row["recipient_role"] == "supervisor" and row["state"] == "delivered"
            for row in await deliveries(services, case_id)
        )

    await eventually(climbed, within=30)
    assert any(m["X-Backbone-Case"] == case_id for m in smtp.to(SUPERVISOR))
    assert await published(services, NotificationEscalated.TYPE, notification_id) == 1

    # A person presses the button: the page's form, its action and its hidden fields as the page gives them.
    form = _Page()
    form.feed(page)
    (attributes,) = form.forms
    (fields,) = form.fields
    action = urljoin(f"http://notify/v1/ack/{notification_id}", attributes["action"])
    assert attributes["method"].lower() == "post" and not urlsplit(action).query  # the token goes in the body
    async with notify_client(services) as person:
        in_the_url = await person.post(action, params=fields)
        assert in_the_url.status_code == 404  # a token in the query string is not taken
        pressed = await person.post(action, data=fields)
        acknowledged_at = await pool.fetchval(
            "SELECT acknowledged_at FROM deliveries WHERE notification_id = $1::uuid", notification_id
        )
        again = await person.post(action, data=fields)
        shown = await person.get(f"/v1/ack/{notification_id}", params=fields)
    assert pressed.status_code == again.status_code == 200
    assert acknowledged_at is not None
    after = await pool.fetchrow(
        "SELECT acknowledged_at, acknowledged_via FROM deliveries WHERE notification_id = $1::uuid", notification_id
    )
    assert after is not None and tuple(after) == (acknowledged_at, "link")  # the second press changed nothing
    assert await published(services, NotificationAcknowledged.TYPE, notification_id) == 1
    assert shown.status_code == 200 and "<form" not in shown.text and "確認済み" in shown.text

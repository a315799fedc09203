"""The workbench's session table in the real PostgreSQL: what a copy of it holds, and what moving a row's
sealed tokens to another row opens (nothing)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from backbone.db import create_pool, migrate
from backbone.staff import StaffMember
from devtools.local.stack import LocalStack
from services.workbench.app import build_app
from services.workbench.oidc import Tokens
from services.workbench.sessions import Sessions, TokenSeal, _hash
from services.workbench.web import SESSION_COOKIE
from tests.integration.receivers import free_port
from tests.integration.workbench_browser import serving

MIGRATIONS = Path(__file__).parents[2] / "services" / "workbench" / "migrations"


@pytest.fixture
async def workbench_pool(stack: LocalStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.workbench_settings().database)
    await migrate(pool, "workbench", MIGRATIONS)
    yield pool
    await pool.close()


def _tokens(subject: str) -> Tokens:
    def token() -> str:
        return f"eyJ{secrets.token_urlsafe(24)}.eyJ{secrets.token_urlsafe(48)}.{secrets.token_urlsafe(32)}"

    return Tokens(
        member=StaffMember(subject, "ikiiki-katase", frozenset({"staff"})),
        display_name="",
        id_token=token(),
        access_token=token(),
        access_expires_at=time.time() + 300,
        refresh_token=token(),
    )


async def test_the_session_table_holds_no_token_and_a_rows_tokens_open_in_that_row_only(
    stack: LocalStack, workbench_pool: asyncpg.Pool
) -> None:
    sessions = Sessions(workbench_pool, hours=1, seal=TokenSeal.of(stack.workbench_settings().workbench.session_key))
    mine, theirs = _tokens(f"sub-{secrets.token_hex(4)}"), _tokens(f"sub-{secrets.token_hex(4)}")
    my_id, their_id = await sessions.open(mine), await sessions.open(theirs)
    try:
        # What a dump of the table shows: every column of the row, as text.
        dumped = await workbench_pool.fetchval(
            "SELECT string_agg(t::text, E'\\n') FROM sessions t WHERE session_hash = ANY($1)",
            [_hash(my_id), _hash(their_id)],
        )
        for tokens in (mine, theirs):
            for token in (tokens.id_token, tokens.access_token, tokens.refresh_token or ""):
                for piece in token.split("."):
                    assert piece not in dumped
                    assert piece.encode().hex() not in dumped  # nor as bytea's hex
        assert my_id not in dumped  # the cookie's value is kept only as its hash

        found = await sessions.find(my_id)
        assert found is not None
        assert (found.id_token, found.access_token, found.refresh_token) == (
            mine.id_token,
            mine.access_token,
            mine.refresh_token,
        )

        # Someone who can write the table copies their sealed tokens into my row: my cookie now opens nothing.
        await workbench_pool.execute(
            "UPDATE sessions AS mine SET id_token_sealed = theirs.id_token_sealed,"
            " access_token_sealed = theirs.access_token_sealed, refresh_token_sealed = theirs.refresh_token_sealed"
            " FROM sessions AS theirs WHERE mine.session_hash = $1 AND theirs.session_hash = $2",
            _hash(my_id),
            _hash(their_id),
        )
        assert await sessions.find(my_id) is None
        still = await sessions.find(their_id)
        assert still is not None and still.access_token == theirs.access_token
    finally:
        for session_id in (my_id, their_id):
            await sessions.close(_hash(session_id))


async def test_the_workbench_says_on_a_page_when_its_database_is_out_of_reach(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its sessions' database down or failing over: a 503 page in both languages that says nothing was saved,
    not a bare 500."""

    async def out_of_reach(_: Sessions, __: str) -> None:
        raise asyncpg.CannotConnectNowError("the database system is in recovery mode")

    monkeypatch.setattr(Sessions, "find", out_of_reach)
    app = build_app(stack.workbench_settings())
    async with (
        serving(app, free_port(), lifespan=True) as url,
        httpx.AsyncClient(base_url=url, cookies={SESSION_COOKIE: "a-session"}) as browser,
    ):
        page, english = await browser.get("/"), await browser.get("/", params={"lang": "en"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "この操作は保存されていません" in page.text
    assert english.status_code == 503 and "Nothing was saved" in english.text

"""The workbench's session tokens at rest: sealed, bound to their row and column, under a key kept as a secret."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from backbone.settings import DatabaseSettings
from backbone.staff import IdentitySettings
from services.workbench.sessions import Session, TokenSeal
from services.workbench.settings import WorkbenchOptions, WorkbenchSettings

KEY = base64.b64encode(secrets.token_bytes(32)).decode()
# An access token as a provider issues it: a JWT, whose pieces are what a thief would look for.
ACCESS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwZjFlIiwiYWdlbmN5IjoiaWtpaWtpLWthdGFzZSJ9.c2lnbmF0dXJl"


def _row_hash() -> bytes:
    return hashlib.sha256(secrets.token_urlsafe(32).encode()).digest()


def test_a_sealed_token_holds_no_piece_of_the_token_and_opens_in_its_own_row_and_column() -> None:
    seal, row = TokenSeal.of(SecretStr(KEY)), _row_hash()
    sealed = seal.seal(ACCESS, column="access_token", session_hash=row)
    for piece in (ACCESS, *ACCESS.split(".")):
        assert piece.encode() not in sealed
    assert seal.seal(ACCESS, column="access_token", session_hash=row) != sealed  # a fresh nonce each time
    assert seal.open(sealed, column="access_token", session_hash=row) == ACCESS


def test_a_sealed_token_moved_to_another_row_or_column_or_read_under_another_key_does_not_open() -> None:
    seal, row, other_row = TokenSeal.of(SecretStr(KEY)), _row_hash(), _row_hash()
    sealed = seal.seal(ACCESS, column="access_token", session_hash=row)
    assert seal.open(sealed, column="access_token", session_hash=other_row) is None
    assert seal.open(sealed, column="refresh_token", session_hash=row) is None
    assert TokenSeal.of(None).open(sealed, column="access_token", session_hash=row) is None
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert seal.open(altered, column="access_token", session_hash=row) is None


def test_the_session_key_must_be_32_bytes_of_base64_and_production_must_have_one() -> None:
    with pytest.raises(ValidationError, match="exactly 32 bytes"):
        WorkbenchOptions(session_key=SecretStr(base64.b64encode(b"short").decode()))
    with pytest.raises(ValidationError, match="must be base64"):
        WorkbenchOptions(session_key=SecretStr("not base64!"))
    common = {
        "database": DatabaseSettings(dsn="postgresql://nobody@127.0.0.1/none"),
        "identity": IdentitySettings(issuer="https://id.city.example/realms/fujisawa"),
    }
    with pytest.raises(ValidationError, match="BACKBONE_WORKBENCH__SESSION_KEY"):
        WorkbenchSettings(environment="production", **common)  # type: ignore[arg-type]
    keyed = WorkbenchSettings(
        environment="production",
        workbench=WorkbenchOptions(session_key=SecretStr(KEY)),
        **common,  # type: ignore[arg-type]
    )
    assert KEY not in repr(keyed) and KEY not in str(keyed.model_dump())


def test_a_session_printed_in_a_log_shows_none_of_its_tokens() -> None:
    session = Session(
        b"h", "sub-1", "ikiiki-katase", frozenset({"staff"}), "", "csrf-x", "id-x", ACCESS, datetime.now(UTC), "ref-x"
    )
    shown = repr(session)
    assert "sub-1" in shown
    for secret in ("csrf-x", "id-x", ACCESS, "ref-x"):
        assert secret not in shown

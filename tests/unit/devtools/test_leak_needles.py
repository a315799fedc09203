"""The leak scan's needles: how each kind is spelled, and where an acknowledgement token may be."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from devtools.faults import leaks, needles
from devtools.faults.needles import ACK_TOKENS, AGENCY_TOKENS

OWN, OTHER = "a" * 32, "b" * 32
NOTIFICATIONS = {OWN: "0b6f3c1e-6a57-5d33-9d0b-1f7c9e2a4b10", OTHER: "5e0a4d2c-1b3f-5a6e-8c7d-9f0e1a2b3c4d"}


def link(token: str) -> str:
    return f"http://127.0.0.1:8104/v1/ack/{NOTIFICATIONS[token]}?token={token}"


def mail(token: str, *, extra: str = "") -> bytes:
    """A notification e-mail as notify sends it: its Message-ID is its notification id."""
    message = EmailMessage()
    message["To"] = "oncall@ikiiki-zengyo.fujisawa-backbone.invalid"
    message["Message-ID"] = f"<{NOTIFICATIONS[token]}@fujisawa-backbone>"
    message.set_content(f"確認はこちら:\n{link(token)}\n{extra}", cte="base64")
    return bytes(message)


def test_texts_are_searched_as_utf8_and_as_json_escapes() -> None:
    assert needles.spelled(["金成"]) == ["金成".encode(), b"\\u91d1\\u6210"]
    assert needles.spelled(["ascii-only"]) == [b"ascii-only"]  # the same either way: kept once


def test_an_agency_token_is_searched_for_by_its_secret_part() -> None:
    assert needles.agency_secrets(["ikiiki-zengyo.s3cr3t.with.dots"]) == ["s3cr3t.with.dots"]


def test_an_acknowledgement_token_may_be_in_its_own_e_mail_only_even_when_the_body_is_encoded() -> None:
    own, leaking = leaks._readable(mail(OWN)), leaks._readable(mail(OTHER, extra=f"転送: {link(OWN)}"))
    assert base64.b64encode(OWN.encode()) not in mail(OWN)  # the raw message hides it ...
    assert needles.ack_tokens(own) == [OWN.encode()]  # ... the decoded body does not
    assert needles.own_ack_tokens(leaking) == {OTHER.encode()}  # its own, not the one it forwards
    findings = leaks.Findings(canaries=0)
    wanted = {ACK_TOKENS: [OWN.encode(), OTHER.encode()], AGENCY_TOKENS: [b"s3cr3t"]}
    leaks._scan_mail(findings, {"1": own, "2": leaking}, wanted)
    assert findings.hits["e-mails"] == {ACK_TOKENS: 1, AGENCY_TOKENS: 0}  # OWN, forwarded in the other e-mail
    (seen,) = findings.excerpts  # where, without the token itself
    assert "転送: http://127.0.0.1:8104/v1/ack/" in seen and OWN not in seen and OTHER not in seen
    assert f"token=<{ACK_TOKENS}>" in seen


def test_a_scan_is_clean_only_when_every_control_found_something() -> None:
    findings = leaks.Findings(canaries=1, disclosed=1, hits={"spans": {ACK_TOKENS: 0}})
    findings.controls = {"staff id": (1, 1)}
    assert findings.clean
    findings.controls["acknowledgement tokens"] = (0, 0)  # nothing to find is no proof the search sees
    assert not findings.clean

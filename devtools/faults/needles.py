"""What `backbone leak-scan` looks for, by kind: the run's personal-data and free-text canaries, and the
secrets that must never be written to a log, a span, a topic or an e-mail.

| kind | the strings | also searched in database rows? |
|---|---|---|
| personal data | canary names, address, phone, summary | yes, every table (intake keeps them encrypted) |
| free text | canaries typed into the agencies' free-text fields | no: they belong in the owning service's tables |
| agency tokens | the secret part of every token the run issued | yes (services keep a hash and a ciphertext) |
| acknowledgement tokens | the token of each e-mail's link | yes, but in the e-mails notify keeps (`deliveries`) |
| webhook secrets | notify's secret of every directory agency, in hex | yes |
| database passwords | the local secrets file's PostgreSQL passwords | yes |
| service keys | intake's keys, the audit signing key, the credentials keys | yes |

An acknowledgement token is searched in every e-mail but the one whose link carries it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping

from devtools.local.postgres import LocalSecrets

PERSONAL_DATA = "personal data"
FREE_TEXT = "free text"
AGENCY_TOKENS = "agency tokens"
ACK_TOKENS = "acknowledgement tokens"
WEBHOOK_SECRETS = "webhook secrets"
DATABASE_PASSWORDS = "database passwords"
SERVICE_KEYS = "service keys"
KINDS = (PERSONAL_DATA, FREE_TEXT, AGENCY_TOKENS, ACK_TOKENS, WEBHOOK_SECRETS, DATABASE_PASSWORDS, SERVICE_KEYS)
NOT_IN_DATABASES = frozenset({FREE_TEXT})
# Tables where a kind belongs: notify keeps each message it sends, acknowledgement link included.
BELONGS_IN = {ACK_TOKENS: frozenset({("notify", "deliveries")})}

Needles = dict[str, list[bytes]]  # kind → the byte strings searched for

_ACK_LINK = re.compile(rb"/v1/ack/([0-9a-f-]{36})\?token=([0-9a-f]{32})")
_MESSAGE_ID = re.compile(rb"^Message-ID: <([0-9a-f-]{36})@", re.MULTILINE | re.IGNORECASE)


def spelled(texts: Iterable[str]) -> list[bytes]:
    """Each text as UTF-8 and as JSON's \\u escapes (the same for ASCII: kept once)."""
    found: list[bytes] = []
    for text in texts:
        for form in (text.encode(), json.dumps(text).strip('"').encode()):
            if form not in found:
                found.append(form)
    return found


def agency_secrets(tokens: Iterable[str]) -> list[str]:
    """The secret part of each `agency.<secret>` token (the agency id before it is no secret)."""
    return [token.split(".", 1)[1] for token in tokens]


def webhook_secrets(notify_credentials_key: str, agencies: Iterable[str]) -> dict[str, str]:
    """notify's webhook secret of each agency, in hex as `PUT /v1/rosters/me` shows it: the same derivation as
    `services/notify/app.py` and `Notifier.webhook_secret` (the scan proves it by a signed acknowledgement)."""
    key = hashlib.sha256(b"notify:" + notify_credentials_key.encode()).digest()
    return {agency: hmac.new(key, f"webhook:{agency}".encode(), hashlib.sha256).hexdigest() for agency in agencies}


def database_passwords(local: LocalSecrets) -> list[str]:
    return [local.admin_password, *local.service_passwords.values()]


def service_keys(local: LocalSecrets) -> list[str]:
    return [*local.intake_keys.values(), *local.credential_keys.values()]


def ack_tokens(mail: bytes) -> list[bytes]:
    """The acknowledgement tokens of the links in one e-mail."""
    return [token for _, token in _ACK_LINK.findall(mail)]


def own_ack_tokens(mail: bytes) -> set[bytes]:
    """The token of the e-mail's own notification (its Message-ID), the one it may carry."""
    own = _MESSAGE_ID.search(mail)
    return {token for notification, token in _ACK_LINK.findall(mail) if own and notification == own.group(1)}


def secrets_of_the_run(tokens: Mapping[str, str], local: LocalSecrets, agencies: Iterable[str]) -> Needles:
    """Every secret but the acknowledgement tokens, which come with the e-mails."""
    return {
        AGENCY_TOKENS: spelled(agency_secrets(tokens.values())),
        WEBHOOK_SECRETS: spelled(webhook_secrets(local.credential_keys["notify"], agencies).values()),
        DATABASE_PASSWORDS: spelled(database_passwords(local)),
        SERVICE_KEYS: spelled(service_keys(local)),
    }


def hits(blob: bytes, needles: Needles) -> dict[str, int]:
    return {kind: sum(blob.count(needle) for needle in wanted) for kind, wanted in needles.items()}


def excerpt(blob: bytes, needles: Needles, mask: Needles) -> str:
    """Around the first needle found in `blob`, with every string of `mask` masked as `<kind>`: the report shows
    where a secret or a canary was found without printing it. Empty when nothing is found."""
    found = next(
        ((at, needle) for wanted in needles.values() for needle in wanted if (at := blob.find(needle)) >= 0), None
    )
    if found is None:
        return ""
    at, needle = found
    around = blob[max(0, at - 200) : at + len(needle) + 60]
    for kind, wanted in mask.items():
        for masked in wanted:
            around = around.replace(masked, f"<{kind}>".encode())
    return "".join(c if c.isprintable() else "·" for c in around.decode("utf-8", "replace"))

"""`backbone leak-scan`: canary personal data and free text pushed through a whole run, then the canaries and
every secret of the run looked for everywhere they must not be.

The canaries are consultations of invented people whose names, kana, address, phone and summary carry
a marker unique to the run. They are submitted over HTTP with consent for community support centres, the
referred centre reads them back through the disclosure API (the one lawful way out), and the services
export every span over OTLP to a sink in this process. Agencies then write free text carrying the
marker into every free-text field they have (`devtools/faults/free_text.py`). On-call staff open every
notification e-mail's acknowledgement page, press the button on some, and acknowledge one by a request
signed with the agency's webhook secret. What is looked for, by kind, is in `devtools/faults/needles.py`:
the canaries, the run's agency tokens, the acknowledgement tokens of the e-mails, notify's webhook
secrets, the database passwords and the services' keys. Each is searched for, as UTF-8 and as JSON's
\\u escapes, in:

- every record written to any topic during the run (keys, values and headers);
- what the services' log files gained during the scan;
- every span exported (the OTLP request bodies);
- every row written during the scan in every table of every service's database (intake's included:
  personal data is stored encrypted, so the plaintext must not appear there either) — the audit
  ledger among them — except free text, which belongs in its owning service's tables, and the
  acknowledgement links in the e-mails notify keeps to send. Rows older than the scan cannot hold its
  canaries (the marker is new), and the development databases keep every earlier run: searching all of
  them made each scan slower than the last. A row counts as written during the scan when the
  transaction that wrote it (its `xmin`) began after the scan's first transaction id; an update writes a
  new row version, so updates count too;
- the e-mails sent to on-call staff during the scan (an acknowledgement token only in the e-mail whose
  link carries it).

The only place a personal-data canary may appear is the disclosure API's answer to an entitled agency.
Controls prove that each search can find what it looks for (`Findings.controls`).
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from uuid import UUID

import httpx

from backbone import directory
from devtools.bench.otlp_sink import OtlpSink
from devtools.faults import free_text, needles, rows, topics
from devtools.faults.free_text import CENTRE as READER
from devtools.faults.free_text import COUNTER
from devtools.faults.needles import ACK_TOKENS, FREE_TEXT, PERSONAL_DATA, Needles
from devtools.faults.topics import Offsets
from devtools.faults.workload import Workload
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import MEASURING, LocalStack
from devtools.simulation.agencies import ACK_LINK, acknowledge_as_staff, body_text
from schemas.topics import ALL_TOPICS
from services.notify.channels import sign

MAX_EXCERPTS = 10
DATABASE_ROWS = "database tables (rows written during the scan; bytea columns as bytes)"
_RECIPIENT = re.compile(r"@([a-z0-9-]+)\.fujisawa-backbone\.invalid")


@dataclass
class Findings:
    canaries: int
    disclosed: int = 0
    needles: dict[str, int] = field(default_factory=dict)  # kind → how many strings were searched for
    hits: dict[str, dict[str, int]] = field(default_factory=dict)  # where → kind → hits
    scanned: dict[str, int] = field(default_factory=dict)  # where → how much was searched
    controls: dict[str, tuple[int, int]] = field(default_factory=dict)  # what must be found → (found, at least)
    excerpts: list[str] = field(default_factory=list)  # where something was found, masked

    def search(self, place: str, blob: bytes, wanted: Needles, mask: Needles | None = None, part: str = "") -> None:
        """Add what `blob`, `part` of `place`, holds of each kind; keep an excerpt of a find, `mask` masked."""
        totals = self.hits.setdefault(place, dict.fromkeys(wanted, 0))
        found = needles.hits(blob, wanted)
        for kind, hits in found.items():
            totals[kind] += hits
        if any(found.values()) and len(self.excerpts) < MAX_EXCERPTS:
            self.excerpts.append(f"{place}{part}: …{needles.excerpt(blob, wanted, mask or wanted)}…")

    @property
    def searched_well(self) -> bool:
        return all(found >= least > 0 for found, least in self.controls.values())

    @property
    def clean(self) -> bool:
        leaked = any(any(kinds.values()) for kinds in self.hits.values())
        return self.searched_well and self.disclosed == self.canaries and not leaked


def canary(marker: str, n: int) -> dict[str, object]:
    return {
        "summary": f"カナリア相談{marker}{n} 連絡先は本人宅",
        "person": {
            "family_name": f"金成{marker}{n}",
            "given_name": "試験",
            "family_name_kana": "カナリア",
            "given_name_kana": "シケン",
            "birth_date": "1931-02-28",
            "address": f"藤沢市カナリア町{marker}-{n}",
            "phone": _phone(marker, n),
        },
    }


def _phone(marker: str, n: int) -> str:
    return f"0466-{n:02d}-{int(marker, 16) % 10_000:04d}"


def personal_needles(marker: str, count: int) -> list[bytes]:
    # Not the bare marker: it is also in the staff id, which is no personal data and is stored as it is.
    texts = [f"金成{marker}{n}" for n in range(count)] + [f"カナリア相談{marker}", f"カナリア町{marker}"]
    return needles.spelled(texts + [_phone(marker, n) for n in range(count)])


@dataclass
class Acknowledging:
    """What on-call staff did with the run's e-mails."""

    pages: list[str] = field(default_factory=list)  # the notification ids whose page was opened
    pressed: int = 0  # buttons pressed
    acknowledged: int = 0  # ... that acknowledged
    signed: int = 0  # acknowledged by a request signed with a webhook secret the scan derived itself


async def scan(stack: LocalStack, count: int, tokens: Mapping[str, str]) -> Findings:
    """`tokens`: the run's agency tokens (agency id → token), every directory agency's."""
    marker = secrets.token_hex(4).upper()
    local = LocalSecrets.load_or_create(stack.paths.secrets)
    wanted: Needles = {PERSONAL_DATA: personal_needles(marker, count), FREE_TEXT: free_text.needles(marker)}
    wanted |= needles.secrets_of_the_run(tokens, local, list(directory.load().agencies))
    findings = Findings(canaries=count)
    began = await rows.transaction_id(stack)
    # Like the database rows: only what is written from now on can hold this scan's canaries.
    log_sizes = {path: path.stat().st_size for path in stack.paths.logs.rglob("*.log")}
    maildir = mailbox.Maildir(stack.mail.maildir, create=True)
    earlier_mail = set(maildir.keys())
    bootstrap = stack.kafka.bootstrap_servers
    since = await topics.end_offsets(bootstrap, ALL_TOPICS)
    workload = Workload(stack.base_url("intake"), tokens[COUNTER], run_id=marker, seed=1, invalid_share=0.0)
    async with OtlpSink(keep=True) as sink:
        print("  restarting the services with every span exported to the scan and every log line written …", flush=True)
        # DEBUG: the most an operator can turn on (every consumed message, every request) is searched too.
        exporting = MEASURING | {"BACKBONE_TELEMETRY__OTLP_ENDPOINT": sink.endpoint, "BACKBONE_LOG__LEVEL": "DEBUG"}
        await asyncio.to_thread(stack.restart_services, exporting)
        async with httpx.AsyncClient(timeout=30) as http:
            people = await _consult(stack, http, workload, count)
            print("  writing free text into every free-text field agencies have …", flush=True)
            planted = await free_text.plant(stack, http, tokens, marker, list(people))
            print("  the referred centre reads the canaries back under consent …", flush=True)
            findings.disclosed = await _read_back(stack, http, tokens[READER], people, marker)
            print("  waiting for the notifications and audit records; staff open and acknowledge e-mails …", flush=True)
            await asyncio.sleep(10)  # relays, consumers, the dispatcher and audit all see them within seconds
            acknowledging = await _acknowledge(stack, http, maildir, earlier_mail, local)
        await asyncio.to_thread(stack.restart_services, {})  # flushes the span exporters at shutdown
        spans = sink.body
    mails = {key: _readable(maildir.get_bytes(key)) for key in set(maildir.keys()) - earlier_mail}
    wanted[ACK_TOKENS] = [token for mail in mails.values() for token in dict.fromkeys(needles.ack_tokens(mail))]
    findings.needles = {kind: len(strings) for kind, strings in wanted.items()}
    findings.search("spans", spans, wanted)
    findings.scanned["spans"] = len(spans)
    await _scan_topics(findings, bootstrap, since, wanted)
    log_gains = _log_gains(stack.paths.logs, log_sizes)
    _scan_logs(findings, log_gains, wanted)
    findings.hits[DATABASE_ROWS], findings.scanned[DATABASE_ROWS], where = await rows.search(stack, wanted, began)
    findings.excerpts += where[: MAX_EXCERPTS - len(findings.excerpts)]
    _scan_mail(findings, mails, wanted)
    findings.controls = {
        "the run's staff id, in intake's rows written during the scan": (
            await _staff_id_rows(stack, workload.staff_id, began),
            count,
        ),
        "free-text fields written": (planted, free_text.FIELDS),
        "free-text canaries, in the owning services' rows": (await _free_text_rows(stack, wanted, began), planted),
        "acknowledgement tokens, in notify's rows of the e-mails it sent": (
            await rows.rows_holding(stack, "notify", "deliveries", wanted[ACK_TOKENS], began),
            len(wanted[ACK_TOKENS]),
        ),
        "acknowledgement pages opened, as paths in notify's log": (
            sum(gain.count(f"/v1/ack/{page} ".encode()) for gain in log_gains.values() for page in acknowledging.pages),
            len(acknowledging.pages),
        ),
        "buttons pressed that acknowledged": (acknowledging.acknowledged, acknowledging.pressed),
        "acknowledged by a request signed with the derived webhook secret": (acknowledging.signed, 1),
    }
    return findings


async def _consult(stack: LocalStack, http: httpx.AsyncClient, workload: Workload, count: int) -> dict[UUID, UUID]:
    """The canary consultations, with consent for community support centres; returns case → person."""
    people: dict[UUID, UUID] = {}
    for n in range(count):
        body = workload.body(n, valid=True) | {"district": "zengyo", "personal": canary(workload.run_id, n)}
        body["consent"] = {
            "scope": {"agency_types": ["community-support-centre"]},
            "purposes": ["support", "referral", "case-meeting"],
            "method": "verbal",
        }
        answer = await http.post(
            f"{stack.base_url('intake')}/v1/consultations",
            json=body,
            headers={"Authorization": f"Bearer {workload.token}"},
        )
        answer.raise_for_status()
        people[UUID(answer.json()["case_id"])] = UUID(answer.json()["person_id"])
    return people


async def _read_back(
    stack: LocalStack, http: httpx.AsyncClient, reader: str, people: dict[UUID, UUID], marker: str
) -> int:
    """How many canaries the referred centre read back through the disclosure API. It may once intake has
    learnt that the case was referred to it (from referral's events): until then it is refused, and asks again."""
    disclosed = 0
    deadline = time.monotonic() + 60
    for n, person in enumerate(people.values()):
        while True:
            answer = await http.get(
                f"{stack.base_url('intake')}/v1/persons/{person}",
                params={"purpose": "support"},
                headers={"Authorization": f"Bearer {reader}"},
            )
            if answer.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        disclosed += int(answer.status_code == 200 and f"金成{marker}{n}" in answer.text)
    return disclosed


def _readable(raw: bytes) -> bytes:
    """An e-mail as sent, and its text parts decoded: a body in base64 or quoted-printable hides nothing."""
    parts = [part.get_payload(decode=True) for part in message_from_bytes(raw).walk()]
    return raw + b"\n".join(part for part in parts if isinstance(part, bytes))


async def _acknowledge(
    stack: LocalStack, http: httpx.AsyncClient, maildir: mailbox.Maildir, earlier: set[str], local: LocalSecrets
) -> Acknowledging:
    """Every e-mail's page opened (as a mail gateway would, too); the button pressed on every other one; one
    acknowledged by a request signed with the webhook secret the scan derived (proof that it searches for
    the secrets notify really uses)."""
    done = Acknowledging()
    notify = stack.base_url("notify")
    for n, key in enumerate(sorted(set(maildir.keys()) - earlier)):
        mail = maildir[key]
        link = ACK_LINK.search(body_text(mail))
        if link is None:
            continue
        notification_id = link.group(1).split("/")[3].split("?")[0]
        done.pages.append(notification_id)
        if n % 2 == 0:
            done.pressed += 1
            done.acknowledged += await acknowledge_as_staff(http, f"{notify}{link.group(1)}")
            continue
        (await http.get(f"{notify}{link.group(1)}")).raise_for_status()
        agency = _RECIPIENT.search(str(mail["To"]))
        if not done.signed and agency is not None:
            secret = needles.webhook_secrets(local.credential_keys["notify"], [agency.group(1)])[agency.group(1)]
            body = json.dumps({"notification_id": notification_id}).encode()
            signed = await http.post(
                f"{notify}/v1/notifications/{notification_id}/signed-acknowledgement",
                content=body,
                headers={
                    "X-Backbone-Agency": agency.group(1),
                    "X-Backbone-Signature": sign(bytes.fromhex(secret), body),
                },
            )
            done.signed = int(signed.status_code == 200)
    return done


async def _scan_topics(findings: Findings, bootstrap: str, since: Offsets, wanted: Needles) -> None:
    records = 0
    findings.search("Kafka records", b"", wanted)
    async for record in topics.records_since(bootstrap, since):
        records += 1
        headers = b"".join(name.encode() + b"=" + value for name, value in record.headers)
        findings.search("Kafka records", (record.key or b"") + (record.value or b"") + headers, wanted)
    findings.scanned["Kafka records"] = records


def _log_gains(logs: Path, sizes: dict[Path, int]) -> dict[Path, bytes]:
    """What each log file gained since the scan began (a file new since then: all of it)."""
    gains: dict[Path, bytes] = {}
    for path in sorted(logs.rglob("*.log")):
        with path.open("rb") as log:
            log.seek(sizes.get(path, 0))
            gains[path] = log.read()
    return gains


def _scan_logs(findings: Findings, gains: dict[Path, bytes], wanted: Needles) -> None:
    findings.search("log files", b"", wanted)
    for path, gain in gains.items():
        findings.search("log files", gain, wanted, part=f" ({path.name})")
    findings.scanned["log files"] = len(gains)


def _scan_mail(findings: Findings, mails: dict[str, bytes], wanted: Needles) -> None:
    """Every message delivered since the scan began; an acknowledgement token in any but its own."""
    findings.search("e-mails", b"", wanted)
    for mail in mails.values():
        own = needles.own_ack_tokens(mail)
        others = wanted | {ACK_TOKENS: [token for token in wanted[ACK_TOKENS] if token not in own]}
        findings.search("e-mails", mail, others, mask=wanted)
    findings.scanned["e-mails"] = len(mails)


async def _staff_id_rows(stack: LocalStack, staff_id: str, began: int) -> int:
    """The same search, for a string that must be found: the staff id in intake's consultation rows
    (written during the scan, so the restriction to those rows is tested too)."""
    return await rows.rows_holding(stack, "intake", "consultations", [staff_id.encode()], began)


async def _free_text_rows(stack: LocalStack, wanted: Needles, began: int) -> int:
    found = 0
    for service, table in free_text.KEPT_IN:
        found += await rows.rows_holding(stack, service, table, wanted[FREE_TEXT], began)
    return found


def report(findings: Findings) -> str:
    kinds = list(findings.needles)
    lines = [
        f"{findings.canaries} canary consultations; disclosed to the entitled centre:"
        f" {findings.disclosed}/{findings.canaries}",
        "searched for (UTF-8 and \\u-escaped): "
        + ", ".join(f"{kind} {count}" for kind, count in findings.needles.items()),
        "",
        "| where | searched (spans: bytes; topics: records; logs: files; databases: tables; e-mails: messages) | "
        + " | ".join(kinds)
        + " |",
        "|---|---|" + "---|" * len(kinds),
    ]
    for place, hits in findings.hits.items():
        cells = " | ".join(str(hits[kind]) if kind in hits else "(allowed)" for kind in kinds)
        lines.append(f"| {place} | {findings.scanned.get(place, '')} | {cells} |")
    lines += ["", "| control: must be found | found | at least |", "|---|---|---|"]
    lines += [f"| {what} | {found} | {least} |" for what, (found, least) in findings.controls.items()]
    if findings.excerpts:
        lines += ["", "Found (each canary and secret masked as <kind>):", *(f"- {seen}" for seen in findings.excerpts)]
    return "\n".join(lines) + "\n"

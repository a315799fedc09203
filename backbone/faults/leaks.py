"""`backbone leak-scan`: canary personal data pushed through a whole run, then looked for everywhere it must not be.

The canaries are consultations of invented people whose names, kana, address, phone and summary carry
a marker unique to the run. They are submitted over HTTP with consent for community support centres, the
referred centre reads them back through the disclosure API (the one lawful way out), and the services
export every span over OTLP to a sink in this process. Then each canary string is searched for, as UTF-8
and as JSON's \\u escapes, in:

- every record written to any topic during the run (keys, values and headers);
- what the services' log files gained during the scan;
- every span exported (the OTLP request bodies);
- every row written during the scan in every table of every service's database (intake's included:
  personal data is stored encrypted, so the plaintext must not appear there either) — the audit
  ledger among them. Rows older than the scan cannot hold its canaries (the marker is new), and the
  development databases keep every earlier run: searching all of them made each scan slower than the
  last. A row counts as written during the scan when the transaction that wrote it (its `xmin`) began
  after the scan's first transaction id; an update writes a new row version, so updates count too;
- the e-mails sent to on-call staff during the scan.

The only place a canary may appear is the disclosure API's answer to an entitled agency.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from backbone.bench.otlp_sink import OtlpSink
from backbone.faults import topics
from backbone.faults.scenarios import SERVICES
from backbone.faults.topics import Offsets
from backbone.faults.workload import Workload
from backbone.local.operators import issue_agency_token
from backbone.local.stack import MEASURING, LocalStack
from schemas.topics import ALL_TOPICS
from schemas.vocabulary import AgencyType

READER = ("ikiiki-zengyo", AgencyType.COMMUNITY_SUPPORT_CENTRE)


@dataclass
class Findings:
    canaries: int
    needles: int
    disclosed: int = 0
    control: int = 0  # rows holding the run's staff id, which is stored as it is: proof the search finds things
    places: dict[str, int] = field(default_factory=dict)  # where searched → how many canary hits
    scanned: dict[str, int] = field(default_factory=dict)  # where searched → how much was searched

    @property
    def clean(self) -> bool:
        searched_well = self.control >= self.canaries
        return searched_well and self.disclosed == self.canaries and not any(self.places.values())


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


def needles(marker: str, count: int) -> list[bytes]:
    # Not the bare marker: it is also in the staff id, which is no personal data and is stored as it is.
    texts = [f"金成{marker}{n}" for n in range(count)] + [f"カナリア相談{marker}", f"カナリア町{marker}"]
    texts += [_phone(marker, n) for n in range(count)]
    found: list[bytes] = []
    for text in texts:
        found.append(text.encode())
        found.append(json.dumps(text).strip('"').encode())  # as \\u escapes
    return found


def _hits(blob: bytes, wanted: list[bytes]) -> int:
    return sum(blob.count(needle) for needle in wanted)


def tokens(stack: LocalStack) -> tuple[str, str]:
    """The submitting counter's token and the reading centre's (issued before the scan's event loop runs)."""
    return (
        issue_agency_token(stack, "chiku-fukushi-zengyo", AgencyType.DISTRICT_WELFARE_COUNTER),
        issue_agency_token(stack, *READER),
    )


async def scan(stack: LocalStack, count: int, token: str, reader: str) -> Findings:
    marker = secrets.token_hex(4).upper()
    wanted = needles(marker, count)
    findings = Findings(canaries=count, needles=len(wanted))
    began = await _transaction_id(stack)
    # Like the database rows: only what is written from now on can hold this scan's canaries.
    log_sizes = {path: path.stat().st_size for path in stack.paths.logs.rglob("*.log")}
    maildir = mailbox.Maildir(stack.mail.maildir, create=True)
    earlier_mail = set(maildir.keys())
    bootstrap = stack.kafka.bootstrap_servers
    since = await topics.end_offsets(bootstrap, ALL_TOPICS)
    async with OtlpSink(keep=True) as sink:
        print("  restarting the services with every span exported to the scan …", flush=True)
        exporting = MEASURING | {"BACKBONE_TELEMETRY__OTLP_ENDPOINT": sink.endpoint}
        await asyncio.to_thread(stack.restart_services, exporting)
        workload = Workload(stack.base_url("intake"), token, run_id=marker, seed=1, invalid_share=0.0)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            for n in range(count):
                body = workload.body(n, valid=True) | {"district": "zengyo", "personal": canary(marker, n)}
                body["consent"] = {
                    "scope": {"agency_types": ["community-support-centre"]},
                    "purposes": ["support", "referral"],
                    "method": "verbal",
                }
                answer = await http.post(f"{stack.base_url('intake')}/v1/consultations", json=body)
                answer.raise_for_status()
                accepted = answer.json()
                disclosed = await http.get(
                    f"{stack.base_url('intake')}/v1/persons/{accepted['person_id']}",
                    params={"purpose": "support"},
                    headers={"Authorization": f"Bearer {reader}"},
                )
                findings.disclosed += int(disclosed.status_code == 200 and f"金成{marker}{n}" in disclosed.text)
        print("  waiting for the canaries' notifications and audit records …", flush=True)
        await asyncio.sleep(10)  # relays, consumers, the dispatcher and audit all see them within seconds
        await asyncio.to_thread(stack.restart_services, {})  # flushes the span exporters at shutdown
        findings.places["spans"] = _hits(sink.body, wanted)
        findings.scanned["spans"] = len(sink.body)
    await _scan_topics(findings, bootstrap, since, wanted)
    _scan_logs(findings, stack.paths.logs, log_sizes, wanted)
    await _scan_databases(findings, stack, wanted, began)
    await _control(findings, stack, workload.staff_id, began)
    _scan_mail(findings, maildir, earlier_mail, wanted)
    return findings


async def _scan_topics(findings: Findings, bootstrap: str, since: Offsets, wanted: list[bytes]) -> None:
    hits = records = 0
    async for record in topics.records_since(bootstrap, since):
        records += 1
        hits += _hits((record.key or b"") + (record.value or b"") + b"".join(v for _, v in record.headers), wanted)
    findings.places["Kafka records"] = hits
    findings.scanned["Kafka records"] = records


def _scan_logs(findings: Findings, logs: Path, sizes: dict[Path, int], wanted: list[bytes]) -> None:
    """What each log file gained since the scan began (a file new since then: all of it)."""
    files = sorted(logs.rglob("*.log"))
    hits = 0
    for path in files:
        with path.open("rb") as log:
            log.seek(sizes.get(path, 0))
            hits += _hits(log.read(), wanted)
    findings.places["log files"] = hits
    findings.scanned["log files"] = len(files)


# Rows whose writing transaction is at most `$2` transactions old: those written since the scan began.
_WRITTEN_SINCE = "age(t.xmin) <= txid_current() - $2::bigint"


DATABASE_ROWS = "database tables (rows written during the scan; bytea columns as bytes)"


async def _transaction_id(stack: LocalStack) -> int:
    """A transaction id from before the scan writes anything (ids are counted across the whole server)."""
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        began: int = await conn.fetchval("SELECT txid_current()")
        return began
    finally:
        await conn.close()


async def _scan_databases(findings: Findings, stack: LocalStack, wanted: list[bytes], began: int) -> None:
    texts = [needle.decode() for needle in wanted]
    hits = tables = 0
    for service in SERVICES:
        conn = await asyncpg.connect(stack.settings_for(service).database.dsn.get_secret_value())
        try:
            names = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            for row in names:
                tables += 1
                table = row["tablename"]
                # Each row as text (every column; bytea shows as hex there, so bytea columns are searched
                # as bytes too: outbox payloads, the ledger's canonical records, ciphertexts).
                hits += await conn.fetchval(
                    f"SELECT count(*) FROM {table} t, unnest($1::text[]) AS needle"  # noqa: S608 - catalogue names
                    f" WHERE {_WRITTEN_SINCE} AND position(needle IN t::text) > 0",
                    texts,
                    began,
                )
                for column in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'bytea'",
                    table,
                ):
                    name = column["column_name"]
                    hits += await conn.fetchval(
                        f"SELECT count(*) FROM {table} t, unnest($1::text[]) AS needle"  # noqa: S608 - catalogue names
                        f" WHERE {_WRITTEN_SINCE} AND position(convert_to(needle, 'UTF8') IN t.\"{name}\") > 0",
                        texts,
                        began,
                    )
        finally:
            await conn.close()
    findings.places[DATABASE_ROWS] = hits
    findings.scanned[DATABASE_ROWS] = tables


async def _control(findings: Findings, stack: LocalStack, staff_id: str, began: int) -> None:
    """The same search, for a string that must be found: the staff id in intake's consultation rows
    (written during the scan, so the restriction to those rows is tested too)."""
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        findings.control = await conn.fetchval(
            f"SELECT count(*) FROM consultations t WHERE {_WRITTEN_SINCE} AND position($1 IN t::text) > 0",  # noqa: S608
            staff_id,
            began,
        )
    finally:
        await conn.close()


def _scan_mail(findings: Findings, maildir: mailbox.Maildir, earlier: set[str], wanted: list[bytes]) -> None:
    """Every message delivered since the scan began."""
    hits = messages = 0
    for key in set(maildir.keys()) - earlier:
        messages += 1
        hits += _hits(maildir.get_bytes(key), wanted)
    findings.places["e-mails"] = hits
    findings.scanned["e-mails"] = messages


def report(findings: Findings) -> str:
    lines = [
        f"{findings.canaries} canary consultations, {findings.needles} needles (UTF-8 and \\u-escaped);"
        f" disclosed to the entitled centre: {findings.disclosed}/{findings.canaries};"
        f" control (the run's staff id, found by the same search in intake's rows): {findings.control}",
        "",
        "| where | searched (spans: bytes; topics: records; logs: files; databases: tables) | canary hits |",
        "|---|---|---|",
    ]
    lines += [f"| {place} | {findings.scanned.get(place, '')} | {hits} |" for place, hits in findings.places.items()]
    return "\n".join(lines) + "\n"

"""The hash-chained ledger: appending, signing, and verifying.

Each record is reduced to canonical bytes (its headers sorted, its key and value, as JSON with sorted
keys; header and value bytes that are not UTF-8 are kept as base64), hashed (SHA-256), and chained:

    row_hash = SHA-256(f"{seq}|{prev_hash}|{event_hash}")

and the row hash is signed with the audit service's Ed25519 key. `verify` walks the chain and names the
first row that does not verify: an edited or swapped row (its event hash), a deleted row (a gap in seq or
a broken link), a forged row (a signature the key did not make), and a truncated tail (the external
checkpoints name rows that are gone).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from backbone.db import Connection

GENESIS = "0" * 64
_CHAIN_LOCK = 727_003
_HEAD = "audit.ledger.head"  # the key of the chain's head in what a transaction keeps


@dataclass(frozen=True)
class Entry:
    """One thing to record: a Kafka record (or an auditor's query, which never travels on Kafka)."""

    topic: str
    partition: int | None
    offset: int | None
    headers: list[tuple[str, bytes]]
    key: bytes | None
    value: bytes | None


def canonical(entry: Entry) -> bytes:
    def text(raw: bytes | None) -> Any:
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode()}

    document = {
        "topic": entry.topic,
        "headers": sorted([name, text(value)] for name, value in entry.headers),
        "key": text(entry.key),
        "value": text(entry.value),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(seq: int, prev_hash: str, event_hash: str) -> str:
    return hashlib.sha256(f"{seq}|{prev_hash}|{event_hash}".encode()).hexdigest()


class Signer:
    def __init__(self, private_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.public = self._key.public_key()

    @classmethod
    def with_new_key(cls) -> Signer:
        """A signer with a key made for it, for a ledger that only its maker verifies (tests, the benchmark)."""
        return cls(Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    def sign(self, text: str) -> str:
        return base64.b64encode(self._key.sign(text.encode())).decode()


def signature_valid(public: Ed25519PublicKey, text: str, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), text.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


async def append(conn: Connection, signer: Signer, entry: Entry, *, kept: dict[str, Any] | None = None) -> int | None:
    """Append the entry unless this topic already holds its event; returns its seq (None for a repeat).

    Runs in the caller's transaction; an advisory lock keeps appends in one chain even with several writers.
    `kept` is what the caller's transaction keeps between appends (backbone.delivery.transaction_scratch): the
    chain's head, read under the lock, which no other writer can move before this transaction ends. So the
    first append of a consumed batch takes the lock and reads the head, and each one after it is one insert.
    """
    headers = {name: value.decode("utf-8", errors="replace") for name, value in entry.headers}
    kept = {} if kept is None else kept
    head: tuple[int, str] | None = kept.get(_HEAD)
    if head is None:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
        # After the lock, in a statement of its own, so that its snapshot sees every append committed before ours.
        found = await conn.fetchrow("SELECT seq, row_hash FROM ledger ORDER BY seq DESC LIMIT 1")
        head = (found["seq"], found["row_hash"]) if found is not None else (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    body = canonical(entry)
    event_hash = hashlib.sha256(body).hexdigest()
    chained = row_hash(seq, prev, event_hash)
    # A repeat (the topic holds the event already) conflicts and is left out: the head stays where it was.
    inserted = await conn.fetchval(
        "INSERT INTO ledger (seq, topic, event_id, kafka_partition, kafka_offset, event_type, case_id, causation_id,"
        " trace_id, occurred_at, canonical, data, event_hash, prev_hash, row_hash, signature)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        " ON CONFLICT (topic, event_id) DO NOTHING RETURNING seq",
        seq,
        entry.topic,
        _event_id(entry, headers),
        entry.partition,
        entry.offset,
        headers.get("ce_type", "unknown"),
        headers.get("ce_correlationid"),
        headers.get("ce_causationid"),
        _trace_id(headers),
        _time(headers),
        body,
        _json(entry.value),
        event_hash,
        prev,
        chained,
        signer.sign(chained),
    )
    kept[_HEAD] = (seq, chained) if inserted is not None else head
    return None if inserted is None else int(seq)


def _event_id(entry: Entry, headers: dict[str, str]) -> str:
    """The CloudEvents id, or, for a record that has none, one derived from where it was read."""
    ce_id = headers.get("ce_id")
    if ce_id:
        return ce_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kafka:{entry.topic}/{entry.partition}/{entry.offset}"))


def _trace_id(headers: dict[str, str]) -> str | None:
    parts = headers.get("traceparent", "").split("-")
    return parts[1] if len(parts) == 4 else None


def _time(headers: dict[str, str]) -> datetime | None:
    try:
        return datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def _json(value: bytes | None) -> str | None:
    try:
        json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return (value or b"").decode()


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str


async def verify(
    conn: Connection, public: Ed25519PublicKey, external: list[dict[str, Any]] | None = None
) -> list[Finding]:
    """Walk the chain; every finding names a row. An empty list means the ledger verifies."""
    findings: list[Finding] = []
    heads: dict[int, str] = {}
    async with conn.transaction():  # a cursor needs one; the walk streams, so a large ledger fits in memory
        expected_seq, prev = 1, GENESIS
        async for row in conn.cursor(
            "SELECT seq, canonical, event_hash, prev_hash, row_hash, signature FROM ledger ORDER BY seq"
        ):
            problem = _problem(row, expected_seq, prev, public)
            if problem is not None:
                findings.append(problem)
                break
            heads[row["seq"]] = row["row_hash"]
            prev, expected_seq = row["row_hash"], row["seq"] + 1
    for checkpoint in [] if findings else external or []:
        if not signature_valid(public, f"{checkpoint['seq']}|{checkpoint['row_hash']}", checkpoint["signature"]):
            findings.append(Finding(checkpoint["seq"], "an external checkpoint's signature does not verify"))
            break
        if heads.get(checkpoint["seq"]) != checkpoint["row_hash"]:
            findings.append(
                Finding(
                    checkpoint["seq"],
                    "the external checkpoint does not match the ledger here "
                    "(rows were removed or rewritten since it was signed)",
                )
            )
            break
    return findings


def _problem(row: Any, expected_seq: int, prev: str, public: Ed25519PublicKey) -> Finding | None:
    seq = row["seq"]
    if seq != expected_seq:
        return Finding(expected_seq, f"rows {expected_seq}–{seq - 1} are missing (deleted)")
    if hashlib.sha256(row["canonical"]).hexdigest() != row["event_hash"]:
        return Finding(seq, "the event's bytes do not match its hash (edited or swapped)")
    if row["prev_hash"] != prev:
        return Finding(seq, "its link to the previous row is broken (a row before it was removed or changed)")
    if row_hash(seq, row["prev_hash"], row["event_hash"]) != row["row_hash"]:
        return Finding(seq, "its row hash is wrong")
    if not signature_valid(public, row["row_hash"], row["signature"]):
        return Finding(seq, "its signature was not made by the audit key (a forged row)")
    return None


async def checkpoint(conn: Connection, signer: Signer) -> dict[str, Any] | None:
    """Sign the current head (if it is new); returns the checkpoint to write out."""
    head = await conn.fetchrow("SELECT seq, row_hash FROM ledger ORDER BY seq DESC LIMIT 1")
    if head is None or await conn.fetchval("SELECT 1 FROM checkpoints WHERE seq = $1", head["seq"]):
        return None
    now = datetime.now(UTC)
    signature = signer.sign(f"{head['seq']}|{head['row_hash']}")
    await conn.execute(
        "INSERT INTO checkpoints (seq, row_hash, signed_at, signature) VALUES ($1, $2, $3, $4)",
        head["seq"],
        head["row_hash"],
        now,
        signature,
    )
    return {"seq": head["seq"], "row_hash": head["row_hash"], "signed_at": now.isoformat(), "signature": signature}

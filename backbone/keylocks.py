"""One writer of a record key's events at a time, so that they are stamped, numbered and published in one order.

Events keep their order per Kafka record key: a case's id mostly, a person's or an agency's for a few. An event's
CloudEvents `time` is stamped when a service writes it to its outbox, and the relay publishes committed rows in
the order they were numbered (`seq`). Two transactions writing events of one case could interleave: two notify
instances escalating two of a case's notifications, or a staff member's answer beside a consumer's work. One
stamps its time, the other stamps a later time and inserts first, and the case's topic shows the later event
before the earlier one; a reader keeping a case's latest state by `time` would apply them in the wrong order.

So `Outbox.add` first locks the event's key, in the caller's transaction, and stamps the time only once it holds
the lock, which lasts to the commit. A second writer of the same key waits for the first to commit; its events
are stamped later and numbered higher. Writers of different keys do not wait for each other.

A transaction that writes events of several keys takes their locks together and sorted (`hold`), so that two such
transactions cannot each hold a key the other waits for. A transaction that learns its keys one at a time may
still meet another in a deadlock: PostgreSQL aborts one of them after `deadlock_timeout`, and the kit retries it
as it retries an outage (backbone/delivery.py).
"""

from __future__ import annotations

from hashlib import blake2b

from backbone.db import Connection

KEY_LOCKS = 727_010
"""The first key of the two-key advisory locks on record keys; the second is `lock_of(key)`. PostgreSQL keeps the
two-key locks apart from the one-key locks that the relay, the ledger and intake take."""


def lock_of(key: str) -> int:
    """A record key's lock: the 32 bits that PostgreSQL's two-key lock takes. Two keys may share a lock, and then
    only wait for each other more often."""
    return int.from_bytes(blake2b(key.encode(), digest_size=4).digest(), "big", signed=True)


async def hold(conn: Connection, *keys: str) -> None:
    """Lock `keys` until the caller's transaction ends, sorted, in one round trip. Asking again for a lock the
    transaction holds returns at once; it is asked every time all the same, because a savepoint rolled back gives
    up the locks taken inside it."""
    locks = sorted({lock_of(key) for key in keys})
    if not locks:
        return
    # unnest yields the array in its order, and each row's lock is taken as the row is produced.
    await conn.execute("SELECT pg_advisory_xact_lock($1, lock) FROM unnest($2::int[]) AS lock", KEY_LOCKS, locks)

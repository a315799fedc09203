"""What intake's handlers need besides a connection: keys and the outbox, built once in build_app; and, on a
connection, the store (services/intake/store.py) they load and save through."""

from __future__ import annotations

from dataclasses import dataclass

from backbone.db import Connection
from backbone.outbox import Outbox
from services.intake.crypto import SubmissionOpener, Vault
from services.intake.keys import IntakeKeys
from services.intake.store import PostgresStore


@dataclass(frozen=True)
class Intake:
    vault: Vault
    subject_key: bytes
    opener: SubmissionOpener
    outbox: Outbox

    @classmethod
    def from_keys(cls, keys: IntakeKeys, outbox: Outbox) -> Intake:
        return cls(
            vault=Vault(keys.raw("master_key")),
            subject_key=keys.raw("subject_key"),
            opener=SubmissionOpener(keys.raw("sealing_key")),
            outbox=outbox,
        )

    def on(self, conn: Connection) -> PostgresStore:
        """The store in the transaction open on `conn`, recording events through intake's outbox."""
        return PostgresStore(conn, self.outbox)

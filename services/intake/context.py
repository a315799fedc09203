"""What intake's handlers need besides a connection: keys and the outbox, built once in build_app."""

from __future__ import annotations

from dataclasses import dataclass

from backbone.outbox import Outbox
from services.intake.crypto import SubmissionOpener, Vault
from services.intake.keys import IntakeKeys


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

"""audit's composition root: it consumes every topic and publishes nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import Event
from schemas.topics import ALL_TOPICS
from services.audit.api import page_router, router
from services.audit.ledger import Signer
from services.audit.recording import Checkpoints, on_record
from services.audit.settings import AuditSettings

DESCRIPTION = """\
A tamper-evident ledger of every event of the backbone (dead letters included), appended once each to a
hash chain in PostgreSQL that refuses UPDATE and DELETE, each row signed (Ed25519), the head checkpointed to
a file auditors keep. Auditors (the auditor role only) read timelines of a case, a referral or a trace;
every such query is itself recorded in the ledger. Auditors search in the workbench's auditors' pages,
signed in with the auditor role; the page at `/` links there.
"""


def build_app(settings: ServiceSettings, audit: AuditSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    config = audit or AuditSettings()  # from BACKBONE_AUDIT__*
    signer = Signer(config.key())
    record = on_record(signer)
    topics = [spec.name for spec in ALL_TOPICS]
    runtime.subscribe(topics, {}, records=dict.fromkeys(topics, (Event, record)))
    runtime.run_in_background(
        "checkpoints", lambda pool: Checkpoints(pool, signer, config.checkpoint_file, config.checkpoint_seconds).run()
    )
    app = create_app(
        runtime,
        title="audit",
        summary="The tamper-evident ledger and the auditors' timelines (監査).",
        description=DESCRIPTION,
        routers=[router, page_router],
    )
    app.state.signer = signer
    app.state.audit = config
    return app

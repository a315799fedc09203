"""Operators' commands (docs/runbook.md): dead letters, outbox replay, agency tokens, erasure, the audit ledger.

Each acts on one service with that service's own settings and credentials: inside the service's container
from its `BACKBONE_*` environment, elsewhere on the local stack of `backbone up` (`source.py`).
"""

"""The `backbone` command as the image ships it: `serve` (`main.py`) and the operators' commands (docs/runbook.md):
dead letters, outbox replay, offsets, agency tokens, erasure, the audit ledger (`operators.py` adds them).

Each operator's command acts on one service with that service's own settings and credentials: inside the
service's container from its `BACKBONE_*` environment, elsewhere on the local stack of `backbone up`
(`source.py`). The development tools' commands are added from `devtools.commands` where those are installed.
"""

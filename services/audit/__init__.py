"""audit: a tamper-evident ledger of every event of the backbone, and timelines for auditors (監査)."""

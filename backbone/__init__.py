"""The backbone's shared runtime kit: settings, database and migrations, outbox relay, inbox, delivery (ack after
commit, bounded retries, dead letters), telemetry, Kafka factories, the HTTP edge and the callers' identities.
Services build on it; it knows no service, no command and no development tool (lint-imports checks this).
"""

"""The backbone's shared runtime kit: settings, database and migrations, outbox relay, inbox,
delivery (ack after commit, bounded retries, dead letters), telemetry, Kafka factories and the
`backbone` command. Services build on it; it knows nothing of any one service.
"""

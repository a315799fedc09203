"""The local runtime: a single-node Kafka broker, a PostgreSQL server and the services, all on
127.0.0.1 and all started by `backbone up` (these machines have no container engine)."""

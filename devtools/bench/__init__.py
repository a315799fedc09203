"""The benchmark suite: the backbone measured against the raw limits of Kafka and PostgreSQL on the same
machine, in the same run. Separate from the tests; `backbone bench` runs it and writes JSON and Markdown."""

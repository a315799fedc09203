"""The development tools, installed on developers' and CI's machines and never in the image: the local runtime
(`local/`: Kafka, PostgreSQL, Keycloak, the mail catcher and the services on this machine), the benchmark
(`bench/`), the fault suite, fuzzer and leak scan (`faults/`), a day in Fujisawa (`simulation/`) and the
generators of the committed documents (`documents/`). Their commands are in `commands.py`.

They may import everything the image ships; nothing the image ships imports them (lint-imports checks this).
Their own dependencies (matplotlib, aiosmtpd, …) are in pyproject's `dev` extra.
"""

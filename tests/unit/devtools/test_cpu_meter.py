"""The benchmark's CPU meter: each process counted in its group, the load generator apart from the backbone."""

from __future__ import annotations

import os

from devtools.bench.cpu import LOAD_GENERATOR, CpuMeter, CpuUse, group_of


def test_processes_are_grouped_by_what_they_run() -> None:
    python = "/work/.venv/bin/python"
    assert group_of([python, "-m", "console.main", "serve", "referral", "--instance", "2"], 1) == "referral"
    assert group_of(["postgres: notify notify 127.0.0.1(41404) idle"], 1) == "notify (PostgreSQL)"
    assert group_of(["postgres: walwriter"], 1) == "PostgreSQL"
    assert group_of(["/usr/lib/postgresql/15/bin/postgres", "-D", "/data"], 1) == "PostgreSQL"
    assert group_of(["java", "-Xmx512m", "kafka.Kafka", "server.properties"], 1) == "Kafka"
    assert group_of([python, "-m", "aiosmtpd", "-n"], 1) == "SMTP server"
    assert group_of([python, "-m", "console.main", "serve", "workbench"], 1) == "other"
    assert group_of(["anything"], os.getpid()) == LOAD_GENERATOR


def test_the_backbone_total_leaves_out_the_load_generator_and_keycloak() -> None:
    before = {1: ("intake", 1.0), 2: (LOAD_GENERATOR, 5.0), 3: ("Kafka", 2.0), 9: ("intake", 3.0)}
    after = {
        1: ("intake", 1.5),
        2: (LOAD_GENERATOR, 6.0),
        3: ("Kafka", 2.25),
        4: ("Keycloak", 0.5),
        5: ("intake", 0.25),
    }
    use = CpuUse.between(before, after)  # pid 9 ended between: lost; pid 5 started between: counted in full
    assert use.seconds == {"intake": 0.75, LOAD_GENERATOR: 1.0, "Kafka": 0.25, "Keycloak": 0.5}
    assert use.backbone == 1.0
    assert use.per_item_ms(10)["backbone"] == 100.0


def test_the_meter_sees_its_own_work() -> None:
    with CpuMeter() as meter:
        sum(n * n for n in range(2_000_000))
    assert meter.use.seconds[LOAD_GENERATOR] > 0

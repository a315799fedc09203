"""The soak's sampling and verdict: figures read from /proc and /metrics as they are, memory judged flat or
growing by its windows after warm-up, a backlog that grows found growing, a run too short to judge said so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from devtools.soak import sampling
from devtools.soak.run import Plan, judge, relation_files_held, where_memory_is
from devtools.soak.verdict import memory_flat, not_growing

MINUTES = [float(m) for m in range(121)]


def test_memory_that_settles_after_warm_up_is_flat_and_memory_that_climbs_is_not() -> None:
    settled = [200 + min(m, 20) * 5 + (m % 3) for m in MINUTES]  # grows while warming up, then stays
    assert memory_flat("notify", MINUTES, settled, warmup=20, window=15).ok
    leaking = [300 + m * 0.5 for m in MINUTES]  # +0.5 MiB a minute: +17% over the judged span
    finding = memory_flat("notify", MINUTES, leaking, warmup=20, window=15)
    assert not finding.ok and finding.last > finding.first * 1.1


def test_a_backlog_that_comes_and_goes_holds_and_one_that_grows_does_not() -> None:
    coming_and_going = [(m * 7) % 30 for m in MINUTES]
    assert not_growing("lag", MINUTES, coming_and_going, warmup=20, window=15, slack=50).ok
    growing = [m * 2 for m in MINUTES]
    assert not not_growing("lag", MINUTES, growing, warmup=20, window=15, slack=50).ok


def test_a_run_too_short_for_two_windows_is_not_judged_to_hold() -> None:
    short = MINUTES[:30]
    finding = memory_flat("intake", short, [100.0] * 30, warmup=20, window=15)
    assert not finding.ok and finding.rule.startswith("run too short")


def test_a_services_lag_and_backlog_are_read_from_its_metrics_page() -> None:
    page = (
        "# HELP backbone_consumer_lag Records not yet consumed\n# TYPE backbone_consumer_lag gauge\n"
        'backbone_consumer_lag{partition="0",topic="intake.events.v1"} 3.0\n'
        'backbone_consumer_lag{partition="1",topic="intake.events.v1"} 4.0\n'
        "# HELP backbone_outbox_backlog Outbox rows not yet published to Kafka\n"
        "# TYPE backbone_outbox_backlog gauge\nbackbone_outbox_backlog 12.0\n"
    )
    assert sampling.service_figures(page) == sampling.ServiceFigures(consumer_lag=7, outbox_backlog=12)


def test_a_process_figures_come_from_proc_and_a_new_socket_shows() -> None:
    before = sampling.figures([os.getpid()])
    with socket.socket():
        during = sampling.figures([os.getpid()])
    assert before.pss_bytes >= before.private_bytes > 0 and before.processes == 1
    assert during.sockets == before.sockets + 1 and during.fds == before.fds + 1
    assert sampling.figures([2**22 + 1]).processes == 0  # no such process: nothing counted, no error


def test_descriptors_on_postgresqls_relation_files_are_counted_apart(tmp_path: Path) -> None:
    relation = tmp_path / "data" / "base" / "16384" / "2619_fsm"
    relation.parent.mkdir(parents=True)
    relation.write_bytes(b"")
    (relation.parent / "pg_internal.init").write_bytes(b"")  # a cache file beside them, not a relation
    before = sampling.figures([os.getpid()])
    with relation.open() as _, (relation.parent / "pg_internal.init").open() as _:
        during = sampling.figures([os.getpid()])
    assert during.fds == before.fds + 2 and during.relation_fds == before.relation_fds + 1
    assert sampling.relation_files(tmp_path / "data") == 1


def test_a_process_tree_holds_the_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in sampling.process_tree(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_the_verdict_over_a_samples_file_names_the_series_that_grows(tmp_path: Path) -> None:
    samples = tmp_path / "samples.csv"
    rows = ["minute,subject,figure,value"]
    for m in MINUTES:
        rows += [f"{m},intake,private_mib,120", f"{m},notify,private_mib,{100 + m}", f"{m},notify,outbox_backlog,0"]
        rows += [
            f"{m},postgresql,private_mib,50",
            f"{m},postgresql,shared_mib,{10 + m}",
            f"{m},postgresql,pss_mib,{60 + m}",
            f"{m},postgresql,fds,{100 + 5 * (m % 10) + m}",  # its backends' relation files sawing as they grow
            f"{m},postgresql,relation_fds,{5 * (m % 10) + m}",
            f"{m},postgresql,processes,12",
            f"{m},kafka,fds,{300 + 2 * m}",  # a descriptor every half minute
        ]
    samples.write_text("\n".join(rows) + "\n")
    plan = Plan(2.0, 20, 1, tmp_path)
    findings = {f.series: f.ok for f in judge(samples, plan)}
    assert findings == {
        "intake memory (private MiB)": True,
        "notify memory (private MiB)": False,
        "notify outbox backlog": True,
        "postgresql memory (private MiB)": True,  # its buffer pool filling is shared memory: reported, not judged
        "postgresql fds (relation files aside)": True,
        "postgresql processes": True,
        "kafka fds": False,
    }
    table = where_memory_is(samples, plan)
    assert "| postgresql | shared | 37.0 | 123.0 |" in table and "| postgresql | pss | 87.0 | 173.0 |" in table
    held = relation_files_held(samples, plan)
    assert "| relation files held open, all backends | 45 | 138 |" in held and "| processes | 12 | 12 |" in held

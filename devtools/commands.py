"""The development tools' commands: the local runtime (`up`, `run`, `walkthrough`, `down`, the secured broker and
the cluster), the benchmark, the fault suite, the fuzzer and leak scan, the document generators and `test`.

`console.main` adds them only where the tools are installed and the command does not run in a service's
container (`BACKBONE_SERVICE` unset): the image's `backbone --help` lists what works there, and `backbone serve`
does not load the local stack.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from devtools.local.cluster import NODE_IDS, LocalKafkaCluster
from devtools.local.kafka import LocalRuntimeError, jars_ready, quiet_aiokafka
from devtools.local.paths import LocalPaths
from devtools.local.realm import DEMO_STAFF, demo_logins
from devtools.local.replication import (
    MIN_IN_SYNC,
    REPLICATION_FACTOR,
    ensure_replicated_topics,
    leaders,
    partition_states,
    under_replicated,
)
from devtools.local.stack import NO_QUIET_HOURS, LocalStack
from schemas.topics import ALL_TOPICS

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

MAIN_JOB_PACING = {"BACKBONE_NOTIFY__ACK_URGENT_MINUTES": "0.15"} | NO_QUIET_HOURS
ERRORS: tuple[type[Exception], ...] = (LocalRuntimeError,)
"""What these commands report in one line (a missing Java, a port taken) instead of a traceback."""

EXAMPLES = """\
  backbone up            start Kafka, PostgreSQL, Keycloak and the services (safe to repeat)
  backbone demo-login    how to sign in as a demo staff member (URL, username, password)
  backbone run           start everything, then run a day in Fujisawa through it (live display, picture)
  backbone walkthrough   follow single consultations step by step through every service
  backbone status        what is running, and where
  backbone down          stop everything (data is kept)
  backbone test          run the test suite against the real Kafka and PostgreSQL
  backbone cluster up    a three-broker Kafka cluster beside the single broker, to see a broker die
"""

CLUSTER_DESCRIPTION = """\
Three Kafka nodes (KRaft, each one broker and controller) on 127.0.0.1:19092, 19094 and 19096
(controllers on 19093, 19095, 19097), data in $BACKBONE_HOME/cluster. It runs beside the single
broker of `backbone up`, which stays the default; `backbone down` leaves the cluster alone.

`up` creates the backbone's topics with three replicas and min.insync.replicas=2: an acknowledged
event survives the loss of any one node; with two nodes lost, producers get no acknowledgement and the
outbox keeps the events until the cluster heals. Point a service at the cluster with
  BACKBONE_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096

examples:
  backbone cluster up        start the three nodes, create the topics
  backbone cluster kill 2    SIGKILL node 2 (a crash); its partitions move to the others
  backbone cluster start 2   start it again; it catches up and rejoins every partition's in-sync set
  backbone cluster status    the nodes, and the partitions that are under-replicated
  backbone cluster down      stop the three nodes (data is kept)
"""


def register(commands: Commands) -> None:
    _add_stack_commands(commands)
    _add_tool_commands(commands)


def _add_stack_commands(commands: Commands) -> None:
    """Starting, running and stopping the backbone on this machine."""
    up = commands.add_parser("up", help="start Kafka, PostgreSQL, the topics, Keycloak and the services")
    up.add_argument(
        "--infra", action="store_true", help="only Kafka, PostgreSQL, the topics and Keycloak (what tests need)"
    )
    up.add_argument(
        "--ha",
        action="store_true",
        help="PostgreSQL as a primary and a synchronous standby that pg_auto_failover promotes when the primary dies"
        " (127.0.0.1:55441-55442, its monitor on 55440); the services connect to both. Kept until `backbone up`"
        " without it. The pair has databases of its own, apart from the single server's",
    )
    up.set_defaults(command=_up)

    run = commands.add_parser(
        "run",
        help="the main job: a day in Fujisawa, compressed into minutes, with a live display and a picture",
        description="Starts Kafka, PostgreSQL, Keycloak and the services, and runs a day in Fujisawa through them. "
        "The day begins in a world of its own: the data earlier runs, tests and benchmarks left (topics, databases, "
        "mailbox) is set aside beside where it was, as <name>.earlier, until the next run; the same seed then gives "
        "the same day. The stack stays up afterwards, so the day's cases can be opened in the workbench.",
    )
    run.add_argument("--consultations", type=int, default=240, help="how many consultations the day brings")
    run.add_argument("--minutes", type=float, default=3.0, help="how long the day takes, in real minutes")
    run.add_argument("--seed", type=int, default=2026, help="the same seed gives the same day")
    run.set_defaults(command=_run)

    walk = commands.add_parser(
        "walkthrough",
        help="follow single consultations step by step, every feature shown",
        description="Follows a consultation from intake to the e-mail, and a multi-agency case to its plan, through "
        "the running services. Like `run`, it begins in a world of its own (earlier data set aside as <name>.earlier).",
    )
    walk.set_defaults(command=_walkthrough)

    commands.add_parser("down", help="stop the services, Kafka and PostgreSQL (data is kept)").set_defaults(
        command=_down
    )
    commands.add_parser("status", help="show what is running and whether it is ready").set_defaults(command=_status)

    demo_login = commands.add_parser(
        "demo-login",
        help="how to sign in as a demo staff member at the local identity provider (Keycloak)",
        description="Prints the sign-in URL, the username and the password of the local realm's demo staff "
        "members (all of them, or USER only). The passwords were generated on this machine and are kept in "
        "$BACKBONE_HOME/secrets.json.",
    )
    demo_login.add_argument("user", nargs="?", choices=[member.username for member in DEMO_STAFF], metavar="USER")
    demo_login.set_defaults(command=_demo_login)

    secure = commands.add_parser(
        "secure-kafka",
        help="a second, secured local broker: rehearse production's ACL model (SASL/SCRAM, deny by default)",
        description="Starts a single Kafka node beside the development broker, on 127.0.0.1:29092 (controller "
        "29093), with its own data in $BACKBONE_HOME/secure. Every service (svc-<service>) and every agency of "
        "schemas/directory.toml (agency-<id>) is a SASL/SCRAM-SHA-512 principal with a random password; the ACLs "
        "are backbone/acl.py's, the same model deploy/generate.py writes production's from; whatever they do not "
        "allow is refused. Use it to try a client, a new agency or an ACL change against real authorization before "
        "it reaches a cluster. No TLS: production's listeners are SASL_SSL (deploy/README.md).",
        epilog="examples:\n  backbone secure-kafka up             start it, create the topics, apply the ACLs; "
        "prints where the passwords are\n  backbone secure-kafka status\n  backbone secure-kafka down --forget   "
        "stop it and delete its data and passwords (after adding an agency: the next up adds its principal)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    secure.add_argument("action", choices=["up", "down", "status"])
    secure.add_argument("--forget", action="store_true", help="with down: also delete its data and credentials")
    secure.set_defaults(command=_secure_kafka)

    cluster = commands.add_parser(
        "cluster",
        help="a three-broker Kafka cluster on its own ports, to see the backbone survive a broker's death",
        description=CLUSTER_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster.add_argument(
        "action",
        choices=["up", "down", "status", "kill", "start", "stop"],
        help="up/down: the whole cluster (down keeps the data); status: the nodes and under-replicated "
        "partitions; kill NODE: SIGKILL one node (a crash); stop NODE / start NODE: one node, cleanly",
    )
    cluster.add_argument("node", nargs="?", type=int, choices=NODE_IDS, help="the node (1, 2 or 3) to kill/start/stop")
    cluster.set_defaults(command=_cluster)


def _add_tool_commands(commands: Commands) -> None:
    """Generated documents, measurements, the fault suite and the tests."""
    schemas = commands.add_parser("schemas", help="regenerate the JSON Schemas in schemas/jsonschema/")
    schemas.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    schemas.set_defaults(command=_schemas)

    compatibility = commands.add_parser(
        "compatibility",
        help="check every contract against its release (schemas/released/): compatible both ways, and recorded",
        description="Compares each JSON Schema in schemas/jsonschema/ with its release in schemas/released/, with "
        "Apicurio Registry's checker (fetched from Maven Central on first use): a released consumer must read what "
        "is written now, and today's must read what the release wrote. A changed schema needs its change recorded "
        "in schemas/changelog.toml. Exit 1 on any problem, each named with what to do.",
    )
    compatibility.add_argument(
        "--release", action="store_true", help="after a passing check, keep the current schemas as the released ones"
    )
    compatibility.set_defaults(command=_compatibility)

    bench = commands.add_parser(
        "bench", help="the benchmark suite: the backbone against Kafka's and PostgreSQL's own limits"
    )
    bench.add_argument(
        "--quick", action="store_true", help="smaller volumes (a 100,000-event ledger), for a first look"
    )
    bench.add_argument(
        "--against",
        metavar="COMMIT",
        help="instead of the suite, today's services against that release's, in alternating rounds: P1, the CPU per"
        " consultation (C1), then L1 and intake's POST latency (L3) at one rate for both sides (half of the lower"
        " P1), with the ratios."
        " Example: backbone bench --against 9f3b003 --rounds 3",
    )
    bench.add_argument(
        "--to", metavar="COMMIT", help="with --against: that commit's services instead of today's (one change's A/B)"
    )
    bench.add_argument("--rounds", type=int, default=3, help="with --against: rounds per side (default 3)")
    bench.add_argument(
        "--consultations", type=int, default=600, help="with --against: consultations per P1 round (default 600)"
    )
    bench.add_argument(
        "--seconds", type=float, default=20.0, help="with --against: seconds of L1 and of L3 per round (default 20)"
    )
    bench.add_argument(
        "--rate",
        type=float,
        metavar="PER_SECOND",
        help="with --against: L1 and L3 at this many consultations a second on both sides"
        " (default: half of the lower of each round's two P1)",
    )
    bench.add_argument(
        "--to-env",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --against: a setting of the later side's services, to measure a setting as a change;"
        " repeatable. Example: backbone bench --against HEAD --to-env BACKBONE_KAFKA__LINGER_MS=5",
    )
    bench.set_defaults(command=_bench)

    faults = commands.add_parser(
        "faults",
        help="the fault suite: kill, stop and poison the backbone under load; check nothing is lost or doubled",
        description="Each scenario runs a seeded workload of urgent consultations (1% invalid, 1% poison records on "
        "the ingress topic) while a fault is injected and healed, then checks every service's record: no lost "
        "consultation, no duplicate effect, order per case, no phantom, poison accounted for, drained in time. "
        "Example: backbone faults --quick; backbone faults --only kill-referral broker-kill",
    )
    faults.add_argument("--quick", action="store_true", help="the reduced run CI makes (15 scenarios, 300 each)")
    faults.add_argument("--only", nargs="+", metavar="SCENARIO", help="run these scenarios only (see --list)")
    faults.add_argument("--list", action="store_true", help="list the scenarios and exit")
    faults.add_argument("--consultations", type=int, help="consultations per scenario (full run: 1,200)")
    faults.add_argument("--seed", type=int, default=2026, help="the same seed gives the same workload")
    faults.add_argument(
        "--outage", type=float, help="seconds a broken broker, database or SMTP server stays down (full run: 30)"
    )
    faults.add_argument(
        "--upgrade-from",
        metavar="COMMIT",
        help="the release the upgrade scenarios start from: what production runs today, when that is older than the"
        " default (the release before the latest change to schemas/released/)",
    )
    faults.set_defaults(command=_faults)

    soak = commands.add_parser(
        "soak",
        help="hours of steady work with faults off, sampled every minute: shows that nothing grows",
        description="Runs the simulated day's workload at a steady rate through the whole backbone, with the simulated "
        "agencies answering, and every minute samples each process's memory (PSS, split into private and shared), "
        "what each service's allocators hold, open file descriptors and sockets, each service's consumer lag and "
        "outbox backlog (from its /metrics), and the audit ledger's size. At the end: samples.csv, soak.png and "
        "report.md under $BACKBONE_HOME/soak/<start>, and a verdict: private memory flat after warm-up within "
        "10%, no backlog or descriptor count that grows. Exit code 1 if any does not "
        "hold. Like `backbone run`, it begins in a world of its own. Example: backbone soak --hours 2",
    )
    soak.add_argument("--hours", type=float, default=2.0, help="how long to run (default 2; at least 0.5 to judge)")
    soak.add_argument("--rate", type=float, default=20.0, help="consultations a minute (default 20)")
    soak.add_argument("--seed", type=int, default=2026, help="the same seed gives the same workload")
    soak.add_argument(
        "--trace-memory",
        action="store_true",
        help="run the services with tracemalloc (8 frames) and write, per service, the source lines and the call paths"
        " whose memory grew from the end of the warm-up to the end (under the run's directory, memory/); slower: for"
        " finding a leak",
    )
    soak.set_defaults(command=_soak)

    leaks = commands.add_parser(
        "leak-scan",
        help="push canary personal data and free text through the backbone; search topics, logs, spans, databases and"
        " e-mail for them and for the run's secrets",
    )
    leaks.add_argument("--canaries", type=int, default=20, help="how many canary consultations (default 20)")
    leaks.set_defaults(command=_leak_scan)

    fuzz = commands.add_parser(
        "fuzz", help="fuzz every HTTP operation from the OpenAPI each service serves (Schemathesis); no 5xx allowed"
    )
    fuzz.add_argument("--examples", type=int, default=100, help="examples per operation (CI: 100)")
    fuzz.add_argument("--seed", type=int, default=2026, help="the same seed replays the same requests")
    fuzz.set_defaults(command=_fuzz)

    docs = commands.add_parser("docs", help="regenerate docs/openapi/*.json and docs/events.md (the event catalog)")
    docs.add_argument("--check", action="store_true", help="only check that they are current; exit 1 if not")
    docs.set_defaults(command=_docs)

    asyncapi = commands.add_parser(
        "asyncapi", help="regenerate docs/asyncapi.json, the AsyncAPI 3.0 document of the topics"
    )
    asyncapi.add_argument("--check", action="store_true", help="only check that it is current; exit 1 if not")
    asyncapi.set_defaults(command=_asyncapi)

    pytest = commands.add_parser("test", help="start what the tests need, run pytest, stop what was started")
    pytest.add_argument("pytest_args", nargs="*", help="passed to pytest, e.g. `backbone test -k outbox -x`")
    pytest.set_defaults(command=test)


def _single_server_stack() -> LocalStack:
    """The stack for the commands that break, fill and measure PostgreSQL (the tests, the benchmarks, the fault
    suite, the simulated day): they run against the single server, and say so if `backbone up --ha` is chosen."""
    stack = LocalStack.default()
    if stack.ha is not None:
        raise LocalRuntimeError(
            "this command runs against the single PostgreSQL server, and `backbone up --ha` chose the pair:"
            " run `backbone up --infra` first to switch back (the pair's data is kept for the next --ha)"
        )
    return stack


def _up(args: argparse.Namespace) -> int:
    stack = LocalStack.default().choose_postgres(ha=args.ha, report=print)
    stack.up_infrastructure(print)
    if not args.infra:
        stack.up_services(print)
    return 0


def _down(_: argparse.Namespace) -> int:
    LocalStack.default().down(print)
    return 0


def _status(_: argparse.Namespace) -> int:
    for line in LocalStack.default().status():
        print(line)
    return 0


def _demo_login(args: argparse.Namespace) -> int:
    from devtools.local.postgres import LocalSecrets  # noqa: PLC0415

    stack = LocalStack.default()
    passwords = LocalSecrets.load_or_create(stack.paths.secrets).demo_staff_passwords
    print("\n".join(demo_logins(passwords, args.user)))
    if stack.keycloak.process.pid() is None:
        print("\nKeycloak は起動していません。先に `backbone up` を実行してください。")
        print("Keycloak is not running: start it with `backbone up`.")
    return 0


def _secure_kafka(args: argparse.Namespace) -> int:
    from devtools.local.secure_kafka import SecureKafka  # noqa: PLC0415

    broker = SecureKafka.default()
    if args.forget and args.action != "down":
        print("backbone secure-kafka: --forget goes with down only", file=sys.stderr)
        return 2
    if args.action == "up":
        broker.up(print)
    elif args.action == "down":
        broker.down(print, forget=args.forget)
    else:
        for line in broker.describe():
            print(line)
    return 0


def _cluster(args: argparse.Namespace) -> int:
    cluster = LocalKafkaCluster(LocalPaths.default().cluster)
    single_node_actions = {"kill": cluster.kill_node, "start": cluster.start_node, "stop": cluster.stop_node}
    if args.action in single_node_actions:
        if args.node is None:
            print(f"backbone cluster {args.action}: which node? e.g. backbone cluster {args.action} 2", file=sys.stderr)
            return 2
        print(single_node_actions[args.action](args.node))
        return 0
    if args.action == "up":
        if not jars_ready():
            print("Kafka: resolving jars (the first run downloads about 50 MB from Maven Central) …")
        lines = cluster.start()
        created = asyncio.run(ensure_replicated_topics(cluster.bootstrap_servers))
        lines += [
            f"Topics: {len(ALL_TOPICS)} declared ({REPLICATION_FACTOR} replicas, min.insync.replicas={MIN_IN_SYNC}),"
            f" {len(created)} created now",
            f"Point a service at it: BACKBONE_KAFKA__BOOTSTRAP_SERVERS={cluster.bootstrap_servers}",
        ]
    else:
        lines = cluster.stop() if args.action == "down" else [*cluster.status(), _replication_status(cluster)]
    for line in lines:
        print(line)
    return 0


def _replication_status(cluster: LocalKafkaCluster) -> str:
    if all(node.process.pid() is None for node in cluster.nodes.values()):
        return "partitions: the cluster is not running (backbone cluster up)"
    try:
        with quiet_aiokafka():  # a node that is down is what status is for, not an error to log
            states = asyncio.run(partition_states(cluster.bootstrap_servers, [spec.name for spec in ALL_TOPICS]))
    except (KafkaError, OSError) as error:
        return f"partitions: no answer from the cluster ({type(error).__name__})"
    lagging = under_replicated(states)
    led = ", ".join(f"node {node} {count}" for node, count in sorted(leaders(states).items()))
    summary = f"partitions: {len(states)}, under-replicated {len(lagging)}; leaders: {led or 'none'}"
    shown = [
        f"  {state.topic}[{state.partition}] leader {state.leader}, in sync {list(state.in_sync)}"
        for state in lagging[:10]
    ]
    if len(lagging) > len(shown):
        shown.append(f"  … and {len(lagging) - len(shown)} more")
    return "\n".join([summary, *shown])


def _run(args: argparse.Namespace) -> int:
    from devtools.simulation.day import PACING, run_day  # noqa: PLC0415

    stack = _single_server_stack()
    # The day begins in a world of its own: what tests, benchmarks and earlier days left would fall due at once
    # under the day's compressed deadlines. The day is compressed, so the services run with compressed deadlines
    # (`backbone up` keeps real time).
    stack.set_world_aside(print)
    stack.up_infrastructure(print)
    stack.up_services(print, extra_env=PACING)
    return run_day(
        stack, consultations=args.consultations, minutes=args.minutes, seed=args.seed, out=stack.paths.home / "day"
    )


def _walkthrough(_: argparse.Namespace) -> int:
    from devtools.local.operators import use_directory_defaults  # noqa: PLC0415
    from devtools.local.scenario import follow_one_consultation  # noqa: PLC0415

    stack = _single_server_stack()
    # The main job compresses waiting: an unacknowledged urgent notification climbs after seconds, not
    # minutes, so the ladder shows. The services are restarted with that pacing (`backbone up` keeps real time),
    # in a world of their own, as for the day.
    stack.set_world_aside(print)
    stack.up_infrastructure(print)
    stack.up_services(print, extra_env=MAIN_JOB_PACING)
    use_directory_defaults(stack)  # whatever tests or the fuzzer left registered
    return follow_one_consultation(stack)


def _schemas(args: argparse.Namespace) -> int:
    from devtools.documents import json_schemas  # noqa: PLC0415

    return _regenerate(args.check, json_schemas.stale, json_schemas.write, "backbone schemas")


def _compatibility(args: argparse.Namespace) -> int:
    from devtools.documents import compatibility  # noqa: PLC0415

    print("comparing every contract with its release (Apicurio Registry's JSON Schema checker) …", flush=True)
    problems, compared = compatibility.check()
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {compared} released contracts: see the runbook, 'Changing a contract'")
        return 1
    print(f"{compared} released contracts: every change compatible both ways and recorded")
    if args.release:
        for contract in compatibility.release():
            print(f"released {contract}")
    return 0


def _setting(text: str) -> tuple[str, str]:
    """A NAME=VALUE of `--to-env`: one of the services' settings (README, "Settings")."""
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("BACKBONE_"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a setting: give NAME=VALUE with a BACKBONE_ name, e.g. BACKBONE_KAFKA__LINGER_MS=0"
        )
    return name, value


def _bench(args: argparse.Namespace) -> int:
    from devtools.bench.run import run_bench  # noqa: PLC0415

    stack = _single_server_stack()
    stack.up_infrastructure(print)
    if args.against:
        from devtools.bench.ab import run_ab  # noqa: PLC0415

        out = stack.paths.home / "bench"
        written = run_ab(
            stack,
            args.against,
            to=args.to,
            rounds=args.rounds,
            consultations=args.consultations,
            seconds=args.seconds,
            rate=args.rate,
            to_env=dict(args.to_env),
            out=out,
        )
        print(f"results: {written} (and the .json beside it)")
        return 0
    written = run_bench(stack, quick=args.quick, out=stack.paths.home / "bench")
    print(f"results: {written} (and the .json beside it)")
    return 0


def _faults(args: argparse.Namespace) -> int:
    from devtools.faults.run import QUICK, Plan, run_faults  # noqa: PLC0415
    from devtools.faults.scenarios import catalogue  # noqa: PLC0415

    if args.list:
        for scenario in catalogue():
            print(f"{scenario.name:<24} {scenario.what}")
        return 0
    plan = Plan(consultations=300, rate=30, outage=10, drain_budget=180) if args.quick else Plan(1200, 40, 30, 600)
    if args.consultations or args.outage:
        outage = args.outage or plan.outage
        plan = Plan(args.consultations or plan.consultations, plan.rate, outage, max(plan.drain_budget, 2 * outage))
    stack = _single_server_stack()
    stack.up_infrastructure(print)
    only = args.only or (list(QUICK) if args.quick else None)
    out = stack.paths.home / "faults"
    written, passed = run_faults(stack, plan, only, out, args.seed, upgrade_from=args.upgrade_from)
    print(f"results: {written} (and the .json beside it)")
    return 0 if passed else 1


def _soak(args: argparse.Namespace) -> int:
    from devtools.soak.run import Plan, run_soak  # noqa: PLC0415

    stack = _single_server_stack()
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = stack.paths.home / "soak" / started
    return run_soak(stack, Plan(args.hours, args.rate, args.seed, out, trace_memory=args.trace_memory))


def _leak_scan(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from devtools.faults.leaks import report, scan  # noqa: PLC0415
    from devtools.local.operators import use_directory_defaults  # noqa: PLC0415

    stack = _single_server_stack()
    stack.up_infrastructure(print)
    stack.up_services(print)
    tokens = use_directory_defaults(stack)  # the run's agency tokens: the scan acts with them and looks for them
    findings = asyncio.run(scan(stack, args.canaries, tokens))
    print(report(findings))
    if not findings.clean:
        print(
            "LEAK: a canary or a secret was found where it must never be, a control found nothing it had to find,"
            " or disclosure failed; see above."
        )
    return 0 if findings.clean else 1


def _fuzz(args: argparse.Namespace) -> int:
    from devtools.faults.fuzz import fuzz, table  # noqa: PLC0415

    stack = _single_server_stack()
    stack.up_infrastructure(print)
    stack.up_services(print)
    out = stack.paths.home / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    results = fuzz(stack, examples=args.examples, seed=args.seed, report_dir=out)
    print(table(results))
    print(f"JUnit reports: {out}")
    return 0 if all(r.passed for r in results) else 1


def _docs(args: argparse.Namespace) -> int:
    from devtools.documents import catalog  # noqa: PLC0415

    return _regenerate(args.check, catalog.stale, catalog.write, "backbone docs")


def _asyncapi(args: argparse.Namespace) -> int:
    from devtools.documents import asyncapi  # noqa: PLC0415

    return _regenerate(args.check, asyncapi.stale, asyncapi.write, "backbone asyncapi")


def _regenerate(check: bool, stale: Callable[[], list[str]], write: Callable[[], list[str]], command: str) -> int:
    """Generated files: rewrite them, or (--check) list the stale ones and fail."""
    if check:
        outdated = stale()
        for path in outdated:
            print(f"stale: {path} (run `{command}`)")
        return 1 if outdated else 0
    for path in write():
        print(f"wrote {path}")
    return 0


def test(args: argparse.Namespace) -> int:
    """`backbone test`: the README's test command (`main` hands it pytest's arguments verbatim)."""
    stack = _single_server_stack()
    was_running = stack.kafka.process.pid() is not None
    # The tests run the services in their own process, under the services' consumer groups.
    stack.down_services(print)
    stack.up_infrastructure(print)
    try:
        code = subprocess.call([sys.executable, "-m", "pytest", *args.pytest_args])
    finally:
        if not was_running:
            stack.down(print)
    if code == 5:
        print("backbone test: pytest collected no tests; that is a failure", file=sys.stderr)
        return 1
    return code

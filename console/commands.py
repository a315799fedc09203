"""What the operators' commands do once their arguments are parsed (`cli.py` declares them).

Each command takes its settings from `source.choose`: the service's own environment inside its container,
the local stack elsewhere. Results go to stdout, progress and hints to stderr. Each imports what it needs
when it runs, so that `backbone --help` and the other commands start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from console.errors import OperatorError
from console.window import Window
from schemas.vocabulary import AgencyType

if TYPE_CHECKING:
    from backbone.service import ServiceRuntime
    from console.source import SettingsSource

T = TypeVar("T")


def _source() -> SettingsSource:
    from console.source import choose  # noqa: PLC0415

    source = choose(os.environ)
    source.prepare(_progress)
    return source


def _progress(line: str) -> None:
    print(line, file=sys.stderr)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run one command's work; Kafka or the database not answering becomes a message, not a traceback."""
    import asyncpg  # noqa: PLC0415
    from aiokafka.errors import KafkaError  # noqa: PLC0415

    try:
        return asyncio.run(work)
    except KafkaError as error:
        raise OperatorError(
            f"Kafka refused or did not answer ({type(error).__name__}: {error}); check "
            "BACKBONE_KAFKA__BOOTSTRAP_SERVERS, the principal's ACLs (deploy/README.md) and that the brokers are up"
        ) from error
    except (asyncpg.PostgresConnectionError, asyncpg.InvalidAuthorizationSpecificationError) as error:
        raise OperatorError(
            f"the database refused the connection ({type(error).__name__}: {error}); check BACKBONE_DATABASE__DSN"
        ) from error
    except OSError as error:  # a refused or unreachable host, for the database or for Kafka
        raise OperatorError(
            f"a connection failed ({type(error).__name__}: {error}); check BACKBONE_DATABASE__DSN and "
            "BACKBONE_KAFKA__BOOTSTRAP_SERVERS, and that the database and the brokers are up"
        ) from error


def dlq_list(args: argparse.Namespace) -> int:
    from console import deadletters, views  # noqa: PLC0415

    settings = _source().settings_for(args.consumer)
    listed = _run(deadletters.list_dead_letters(settings.kafka, args.consumer))
    print(views.dead_letters_json(listed) if args.json else views.dead_letters_table(args.consumer, listed))
    return 0


def dlq_redrive(args: argparse.Namespace) -> int:
    from console import deadletters, views  # noqa: PLC0415

    runtime: ServiceRuntime = _source().app(args.consumer).state.runtime
    outcomes = _run(deadletters.redrive_service(runtime, dry_run=args.dry_run, report=print))
    print(views.redrive_summary(args.consumer, outcomes, dry_run=args.dry_run))
    return 1 if not args.dry_run and (outcomes["failed again"] or outcomes["left"]) else 0


def outbox_replay(args: argparse.Namespace) -> int:
    from console import replay  # noqa: PLC0415

    try:
        window = Window(args.since, args.until)
    except ValueError as error:
        raise OperatorError(str(error), exit_code=2) from None
    settings = _source().settings_for(args.service)
    batch = settings.delivery.relay_batch
    _run(replay.replay(settings, window, dry_run=args.dry_run, batch=batch, report=print))
    return 0


def offsets_rewind(args: argparse.Namespace) -> int:
    from console import offsets  # noqa: PLC0415

    runtime: ServiceRuntime = _source().app(args.service).state.runtime
    topics = sorted(runtime.consumed)
    kafka = runtime.settings.kafka
    moves = _run(offsets.rewind(kafka, args.service, topics, args.to, dry_run=args.dry_run, report=print))
    again = sum(move.again for move in moves)
    if not moves:
        print(f"group {args.service}: not past {args.to.isoformat()} on any partition; nothing to rewind")
    elif args.dry_run:
        print(f"group {args.service}, dry run: {len(moves)} partitions would go back, {again:,} records again")
    else:
        print(f"group {args.service}: {len(moves)} partitions rewound; {again:,} records are consumed again on start")
    return 0


def agency_token(args: argparse.Namespace) -> int:
    from backbone.agencies import new_token  # noqa: PLC0415
    from console import credentials  # noqa: PLC0415

    issued = not args.token_stdin
    token = new_token(args.agency) if issued else credentials.token_from(args.agency, sys.stdin.read())
    source = _source()
    services = [source.settings_for(service) for service in source.agency_facing()]
    registered = _run(credentials.register_token(services, token, AgencyType(args.type)))
    where = ", ".join(registered)
    if not issued:
        print(f"registered {args.agency}'s token in {where}", file=sys.stderr)
        return 0
    print(token)
    print(
        f"Registered in {where}. Give this token to {args.agency}'s system administrators; it is shown only once. "
        "Issuing a new one replaces it.",
        file=sys.stderr,
    )
    if len(registered) == 1:
        print(
            f"Register it in the other services {args.agency} calls: pipe it to `backbone agency-token {args.agency} "
            f"--type {args.type} --token-stdin` in each of their containers (docs/runbook.md).",
            file=sys.stderr,
        )
    return 0


def auditor_token(args: argparse.Namespace) -> int:
    from backbone.agencies import new_token  # noqa: PLC0415
    from console import credentials  # noqa: PLC0415

    settings = _source().settings_for("audit")
    token = new_token(args.name)
    _run(credentials.register_token([settings], token, AgencyType.AUDITOR))
    print(token)
    print(
        "Give this token to the auditor's system; it is shown only once. It opens audit's API (/v1/...); auditors"
        " themselves sign in to the workbench's auditors' pages (/audit) with the auditor role.",
        file=sys.stderr,
    )
    return 0


def erase_person(args: argparse.Namespace) -> int:
    from console import credentials  # noqa: PLC0415

    settings = _source().settings_for("intake")
    if _run(credentials.erase_person(settings, args.person_id)):
        print(f"erased {args.person_id}: the data key is gone; the stored ciphertext can never be read again")
        return 0
    print(f"no person {args.person_id} to erase (unknown, or erased already)", file=sys.stderr)
    return 1


def trace(args: argparse.Namespace) -> int:
    from console import auditing, views  # noqa: PLC0415

    source = _source()
    database, config = source.settings_for("audit").database, source.audit_settings()
    kind, rows = _run(auditing.trace(database, config, args.id, language=args.lang))
    if args.json:
        print(auditing.as_json(rows))
        return 0 if rows else 1
    if not rows:
        print(f"nothing in the ledger for {args.id} (a case id, a referral id or a trace id)", file=sys.stderr)
        return 1
    print(views.timeline_table(kind, args.id, rows, language=args.lang))
    return 0


def ledger(_: argparse.Namespace) -> int:
    from console import auditing  # noqa: PLC0415

    source = _source()
    database, config = source.settings_for("audit").database, source.audit_settings()
    count, findings, checkpoints = _run(auditing.verify(database, config))
    if not findings:
        print(f"ledger verifies: {count} rows, every hash, link and signature, and the checkpoints in {checkpoints}")
        return 0
    for finding in findings:
        print(f"row {finding.seq}: {finding.problem}", file=sys.stderr)
    return 1

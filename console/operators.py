"""The operators' commands of `backbone` (docs/runbook.md): their arguments and help texts.

A help text says what the command does, when to use it, and gives an example; `commands.py` does it.
"""

from __future__ import annotations

import argparse
import textwrap
import uuid
from datetime import datetime
from typing import TypeAlias, get_args

from backbone.settings import ServiceName
from console import commands as run
from console.window import moment
from schemas.topics import CONSUMERS
from schemas.vocabulary import AgencyType

SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)
# argparse names its subcommands' action only privately.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

WHERE = """\
where it acts:
  inside a service's container (BACKBONE_SERVICE set: `docker compose exec SERVICE backbone …`,
  `kubectl exec deploy/SERVICE -- backbone …`) on that service only, with its own database and Kafka
  principal; anywhere else on the local stack of `backbone up` (started first if it is not running)."""


def register(commands: Commands) -> None:
    """Add the operators' commands to `backbone`'s subcommands."""
    _dead_letter_commands(commands)
    _outbox_commands(commands)
    _offsets_commands(commands)
    _token_commands(commands)

    erase = _command(
        commands,
        "erase-person",
        "erase a person's data for good (crypto-shredding)",
        "Deletes the person's data key in intake: the ciphertext that remains can never be read again. Events "
        "and the ledger never held personal data, so they stay. Cannot be undone; keep the list of erased ids "
        "outside the database and erase them again after any restore of intake (docs/runbook.md).",
        "backbone erase-person 6f1c2a9e-…            # prints what it erased; exits 1 for an unknown or erased person",
    )
    erase.add_argument("person_id", type=uuid.UUID, help="the person id intake returned")
    erase.set_defaults(command=run.erase_person)

    trace = _command(
        commands,
        "trace",
        "print the audit timeline of a case, a referral or a trace id",
        "The ledger's rows for the id, oldest first, each with its trace id; recorded in the ledger as an "
        "auditor's query (by `cli:<user>`).",
        "backbone trace 0b7c…-case-id --lang en\nbackbone trace 4bf92f3577b34da6a3ce929d0e0e4736 --json",
    )
    trace.add_argument("id", help="a case id, a referral id, or an OpenTelemetry trace id")
    trace.add_argument("--json", action="store_true", help="JSON for machines instead of a table")
    trace.add_argument("--lang", choices=["ja", "en"], default="ja", help="labels in Japanese (default) or English")
    trace.set_defaults(command=run.trace)

    ledger = _command(
        commands,
        "ledger",
        "the audit ledger",
        "verify: walks the hash chain, every row's signature and the signed checkpoints in the checkpoint file; "
        "names the first row that does not verify (edited, deleted, swapped, forged, or a truncated tail).",
        "backbone ledger verify",
    )
    ledger.add_argument("action", choices=["verify"], help="verify: walk the hash chain and the signed checkpoints")
    ledger.set_defaults(command=run.ledger)


def _dead_letter_commands(commands: Commands) -> None:
    dlq = commands.add_parser(
        "dlq",
        help="a consumer's dead letters: list them, re-drive them",
        description="A consumer sets a record aside in <consumer>.dlq.v1 when it cannot be an event (bad headers, "
        "unknown type, schema violation) or its handler failed every attempt. The record is kept byte for byte "
        "with dlq.* headers saying why (docs/runbook.md, Re-drive a dead-letter topic).",
    )
    actions = dlq.add_subparsers(title="actions", required=True, metavar="ACTION")
    listing = _command(
        actions,
        "list",
        "show a consumer's dead letters (never their values)",
        "One row per dead letter still in <consumer>.dlq.v1: its offset, when it failed (JST), why (dlq.reason, "
        "dlq.detail), where it came from (topic[partition]@offset), attempts, event type and id when the headers "
        "have them, and whether a re-drive has taken it. Never the record's value: it may be an agency's raw "
        "submission. Reads without a consumer group, so listing moves nothing.",
        "backbone dlq list referral\n"
        "backbone dlq list intake --json | jq '.[] | select(.reason == \"unauthenticated\")'",
    )
    listing.add_argument("consumer", choices=CONSUMERS, metavar="CONSUMER", help=f"one of {', '.join(CONSUMERS)}")
    listing.add_argument("--json", action="store_true", help="JSON for machines instead of a table")
    listing.set_defaults(command=run.dlq_list)

    redrive = _command(
        actions,
        "redrive",
        "apply a consumer's dead letters again through its own handlers and inbox",
        "When: after the fix for a failing handler is deployed, or after the consumer was upgraded to know a new "
        "event type. Each dead letter not yet re-driven is applied as if read from its original topic, "
        "partition and offset: applied; already done (the inbox has its event); or failed again, when it goes "
        "back to <consumer>.dlq.v1 with its attempts. Progress is committed under the consumer group "
        "<consumer>.dlq-redrive, so a second re-drive starts where the first stopped. The consumer's own group "
        "and the other consumers of the original topic are not disturbed; events the handlers write are "
        "published by the service's own outbox relay. Exits 1 when a record failed again.\n\n"
        "--dry-run tries each record once in a database transaction that is rolled back and says what would "
        "happen (would apply, already done, would be refused as poison or would fail again, with the reason); "
        "it writes nothing and commits nothing.",
        "backbone dlq redrive referral --dry-run     # first: what would be applied, what would fail again\n"
        "backbone dlq redrive referral",
    )
    redrive.add_argument("consumer", choices=CONSUMERS, metavar="CONSUMER", help=f"one of {', '.join(CONSUMERS)}")
    redrive.add_argument("--dry-run", action="store_true", help="say what would happen; write nothing")
    redrive.set_defaults(command=run.dlq_redrive)


def _outbox_commands(commands: Commands) -> None:
    outbox = commands.add_parser("outbox", help="a service's transactional outbox: replay what it sent")
    actions = outbox.add_subparsers(title="actions", required=True, metavar="ACTION")
    replaying = _command(
        actions,
        "replay",
        "publish a service's already-sent events again, as they were sent",
        "When: a consumer lost effects it had acknowledged (its database restored to an earlier point, or a bug "
        "fixed that needs events applied again). Re-publishes the outbox rows sent at or after --since (and "
        "before --until), in their original order, with their original event ids, keys, headers (trace "
        "context) and payloads, through a producer like the relay's (idempotent, acks=all), in batches with "
        "progress. Every consumer's inbox recognises what it already applied, so only missing effects happen. "
        "The rows stay marked as sent; the service's relay waits while the replay runs. It reaches every "
        "consumer of the topic; to repeat events for one consumer only, rewind that consumer's group instead "
        "(docs/runbook.md).",
        "backbone outbox replay referral --since 2026-11-30T09:00:00+09:00 --dry-run\n"
        "backbone outbox replay referral --since 2026-11-30T09:00:00+09:00 --until 2026-11-30T12:00:00+09:00",
    )
    replaying.add_argument("service", choices=SERVICES, metavar="SERVICE", help=f"one of {', '.join(SERVICES)}")
    replaying.add_argument(
        "--since",
        required=True,
        type=_moment,
        metavar="TIME",
        help="rows sent at or after TIME (ISO 8601, with offset)",
    )
    replaying.add_argument(
        "--until", type=_moment, metavar="TIME", help="rows sent before TIME (ISO 8601, with offset)"
    )
    replaying.add_argument("--dry-run", action="store_true", help="say how many rows, per topic; publish nothing")
    replaying.set_defaults(command=run.outbox_replay)


def _offsets_commands(commands: Commands) -> None:
    offsets = commands.add_parser("offsets", help="a stopped service's consumer group: rewind it to a moment")
    actions = offsets.add_subparsers(title="actions", required=True, metavar="ACTION")
    rewinding = _command(
        actions,
        "rewind",
        "move a stopped service's consumer group back to a moment, so it consumes again from there",
        "When: the service's database was restored to a backup taken at T, so its group's committed offsets "
        "claim records the database no longer has. Each partition the group consumes goes back to the first "
        "record written at or after --to (take T less a margin); the restored inbox skips what was applied "
        "before T. A partition is never moved forward, and one the group never committed is left alone. The "
        "service must be stopped: the command refuses a group that has members. Needs only the service's own "
        "principal (Read on its group and topics), so it runs in a one-off container of the service "
        "(docs/runbook.md, Restore PostgreSQL).",
        "backbone offsets rewind referral --to 2026-11-29T01:50:00+09:00 --dry-run\n"
        "backbone offsets rewind referral --to 2026-11-29T01:50:00+09:00\n"
        "k_once referral offsets rewind referral --to 2026-11-29T01:50:00+09:00     # Kubernetes (runbook)",
    )
    rewinding.add_argument("service", choices=SERVICES, metavar="SERVICE", help=f"one of {', '.join(SERVICES)}")
    rewinding.add_argument(
        "--to",
        required=True,
        type=_moment,
        metavar="TIME",
        help="ISO 8601 time with its offset, e.g. T less 10 minutes",
    )
    rewinding.add_argument("--dry-run", action="store_true", help="say where each partition would go; commit nothing")
    rewinding.set_defaults(command=run.offsets_rewind)


def _token_commands(commands: Commands) -> None:
    token = _command(
        commands,
        "agency-token",
        "issue (or replace) an agency's token, or register one issued already",
        "An agency's token authenticates it over HTTP and signs its records on the ingress topics. Issuing "
        "prints a new token once and replaces the agency's earlier one at once. Locally it is registered in every "
        "service agencies call; in a service's container in that service only, so register the same token in "
        "the others with --token-stdin (docs/runbook.md, Rotate an agency's credentials).",
        "backbone agency-token chiku-fukushi-zengyo --type district-welfare-counter\n"
        "TOKEN=$(kubectl exec deploy/intake -- backbone agency-token chiku-fukushi-katase \\\n"
        "    --type district-welfare-counter)\n"
        "printf '%s\\n' \"$TOKEN\" | kubectl exec -i deploy/referral -- backbone agency-token chiku-fukushi-katase \\\n"
        "    --type district-welfare-counter --token-stdin",
    )
    token.add_argument("agency", help="the agency's directory id, e.g. chiku-fukushi-zengyo")
    kinds = [kind.value for kind in AgencyType]
    token.add_argument("--type", required=True, choices=kinds, metavar="TYPE", help=f"one of {', '.join(kinds)}")
    token.add_argument(
        "--token-stdin", action="store_true", help="register the token on stdin (AGENCY.<secret>) instead of a new one"
    )
    token.set_defaults(command=run.agency_token)

    auditor = _command(
        commands,
        "auditor-token",
        "issue a token for an auditor's system (the audit API; people sign in to the workbench instead)",
        "Registered in audit only (in audit's container there).",
        "backbone auditor-token kansa-01",
    )
    auditor.add_argument("name", help="the auditor's id, e.g. kansa-01")
    auditor.set_defaults(command=run.auditor_token)


def _command(commands: Commands, name: str, summary: str, what: str, examples: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description="\n\n".join(textwrap.fill(paragraph, 100) for paragraph in what.split("\n\n")),
        epilog=f"examples:\n{_indent(examples)}\n\n{WHERE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _moment(text: str) -> datetime:
    try:
        return moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None

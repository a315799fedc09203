"""`backbone`: run the interagency messaging backbone.

Every command prints what it does; `backbone COMMAND --help` explains each one. `serve` and the operators'
commands work everywhere, the image included; the development tools' commands (the local runtime, the
benchmark, the fault suite, the document generators, the tests) are offered where those tools are installed
and the command does not run in a service's container (`devtools.commands`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, get_args

from backbone.kafka import KafkaSettingsError
from backbone.settings import ServiceName
from console import operators as operator_commands
from console.errors import OperatorError

# uvicorn's own exit status when its server could not start (the port taken, the application failing to load).
STARTUP_FAILED = 3

EPILOG = """\
examples:
{tools}  backbone serve referral                    one service in the foreground (settings from BACKBONE_*)
  backbone agency-token chiku-fukushi-zengyo --type district-welfare-counter
  backbone dlq list referral                 a consumer's dead letters, and why
  backbone dlq redrive referral --dry-run    what re-applying them would do
  backbone outbox replay referral --since 2026-11-30T09:00:00+09:00

Operators' commands (agency-token, auditor-token, erase-person, trace, ledger, dlq, outbox) run inside
a service's container act on that service only, with its own settings (BACKBONE_*); elsewhere they act
on the local stack. docs/runbook.md says when to use which.
{home}"""

HOME = """
data, logs and generated passwords live in $BACKBONE_HOME (default ~/.fujisawa-backbone);
Kafka's jars and Keycloak's server zip are cached in ~/.cache/fujisawa-backbone.
"""


def development_tools() -> ModuleType | None:
    """The development tools' commands, where they are installed and this is not a service's container."""
    if os.environ.get("BACKBONE_SERVICE", "").strip():
        return None
    try:
        return importlib.import_module("devtools.commands")
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] == "devtools":  # the tools are not installed here (the image)
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    tools = development_tools()
    parser = _parser(tools)
    if tools is not None and words[:1] == ["test"] and words[1:2] not in (["-h"], ["--help"]):
        # pytest's own options follow `test` verbatim and in order; argparse would reorder them.
        args = argparse.Namespace(command=tools.test, pytest_args=words[1:])
    else:
        args = parser.parse_args(words)
    reported: tuple[type[Exception], ...] = (KafkaSettingsError, *(tools.ERRORS if tools else ()))
    try:
        result: int = args.command(args)
    except reported as error:
        print(f"backbone: {error}", file=sys.stderr)
        return 1
    except OperatorError as error:
        print(f"backbone: {error}", file=sys.stderr)
        return error.exit_code
    return result


if TYPE_CHECKING:  # where each group of sub-commands is added
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _parser(tools: ModuleType | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backbone",
        description="The interagency messaging backbone of Fujisawa City's multi-layered support system "
        "(重層的支援体制整備事業): agencies' consultations, referrals and notifications as events on Kafka.",
        epilog=EPILOG.format(tools=tools.EXAMPLES if tools else "", home=HOME if tools else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    if tools is not None:
        tools.register(commands)
    serve = commands.add_parser("serve", help="run one service in the foreground (settings from BACKBONE_* variables)")
    serve.add_argument("service", choices=[*get_args(ServiceName), "workbench"])
    serve.add_argument("--instance", type=int, default=1, help="which instance this is (scale-out); names the process")
    serve.set_defaults(command=_serve)

    operator_commands.register(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from backbone import collector, logs, memory_probe  # noqa: PLC0415
    from backbone.http import server  # noqa: PLC0415
    from backbone.settings import ServiceSettings  # noqa: PLC0415
    from services.workbench.settings import WorkbenchSettings  # noqa: PLC0415

    # The rest comes from BACKBONE_*; the workbench, a client of the services, has settings of its own.
    settings = WorkbenchSettings() if args.service == "workbench" else ServiceSettings(service=args.service)
    logs.configure(args.service, settings.log)
    memory_probe.install_if_asked(args.service)
    app = importlib.import_module(f"services.{args.service}.app").build_app(settings)
    running = server(app, settings.http)
    collector.freeze_start_up()  # here, not in the kit: a test process starts many apps and must collect them
    running.run()
    return 0 if running.started else STARTUP_FAILED


if __name__ == "__main__":
    raise SystemExit(main())

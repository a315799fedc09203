"""`backbone --help` lists what works where it runs. In a service's container (BACKBONE_SERVICE set), and in an
installation without the development tools, it offers `serve` and the operators' commands only, and nothing of
the local runtime, the benchmark, the fault suite or the simulation is imported; on a developer's machine it
offers the tools too. Each case runs in a fresh interpreter, so that what was imported is what the command did."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TOOLS = "devtools"
DEVELOPMENT_COMMANDS = {"up", "run", "walkthrough", "down", "bench", "faults", "fuzz", "test", "docs", "cluster"}

# Where the development tools are not installed, importing them fails, as in the image (deploy-check builds its
# installation for real; this is the quick check).
WITHOUT_TOOLS = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == {TOOLS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
"""

LISTED = """
import argparse, json, sys
from console import main as cli
tools = cli.development_tools()
parser = cli._parser(tools)
(commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
loaded = sorted(m for m in sys.modules if m.split('.')[0] == {tools!r})
print(json.dumps({{"commands": sorted(commands.choices), "loaded": loaded}}))
"""


def listed(*, container: bool, tools_installed: bool = True) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "BACKBONE_SERVICE"}
    if container:
        env["BACKBONE_SERVICE"] = "referral"
    code = ("" if tools_installed else WITHOUT_TOOLS) + LISTED.format(tools=TOOLS)
    answer = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    found: dict[str, list[str]] = json.loads(answer.stdout.strip().splitlines()[-1])
    return found


def test_in_a_services_container_only_serve_and_the_operators_commands_are_offered_and_no_tool_is_loaded() -> None:
    found = listed(container=True)
    assert {"serve", "agency-token", "dlq", "outbox", "trace"} <= set(found["commands"])
    assert not DEVELOPMENT_COMMANDS & set(found["commands"])
    assert found["loaded"] == []


def test_without_the_development_tools_the_command_line_still_serves_and_operates() -> None:
    found = listed(container=False, tools_installed=False)
    assert "serve" in found["commands"] and "agency-token" in found["commands"]
    assert not DEVELOPMENT_COMMANDS & set(found["commands"]) and found["loaded"] == []


def test_on_a_developers_machine_the_tools_are_offered_too() -> None:
    found = listed(container=False)
    assert set(found["commands"]) >= DEVELOPMENT_COMMANDS and "serve" in found["commands"]


def test_an_operators_command_outside_a_container_and_without_a_local_stack_says_where_to_run_it() -> None:
    code = WITHOUT_TOOLS + "from console.main import main\nraise SystemExit(main(['dlq', 'list', 'referral']))"
    env = {k: v for k, v in os.environ.items() if k != "BACKBONE_SERVICE"}
    answer = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert answer.returncode == 2, answer.stderr
    assert "in a service's container" in answer.stderr and "Traceback" not in answer.stderr

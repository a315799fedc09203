"""`backbone fuzz`: every HTTP operation of every service, fuzzed by Schemathesis from the OpenAPI it serves.

Each service is called as an entitled caller (an agency; the audit service as an auditor), so that the
generated requests reach past authentication into validation and the handlers. The only check is
the one that must hold for any input whatsoever: no answer is a 5xx. Schemathesis's examples, coverage
and fuzzing phases run with a fixed seed, so a failure can be replayed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from backbone import directory
from backbone.settings import ServiceName
from devtools.local.operators import issue_agency_token, use_directory_defaults
from devtools.local.stack import LocalStack
from schemas.vocabulary import AgencyType

# Who calls each service: a directory agency that works with it daily (the audit service: an auditor).
CALLERS: dict[ServiceName, str] = {
    "intake": "chiku-fukushi-zengyo",
    "referral": "ikiiki-zengyo",
    "meetings": "backup-fujisawa-shakyo",
    "notify": "ikiiki-zengyo",
    "audit": "audit-fuzz",
}
_CASES = re.compile(r"(\d+) generated")
_OPERATIONS = re.compile(r"Tested: (\d+)")


@dataclass(frozen=True)
class Fuzzed:
    service: str
    operations: int
    cases: int
    passed: bool


def fuzz(stack: LocalStack, *, examples: int, seed: int, report_dir: Path) -> list[Fuzzed]:
    results = []
    agencies = directory.load().agencies
    for service, caller in CALLERS.items():
        kind = agencies[caller].type if caller in agencies else AgencyType.AUDITOR
        token = issue_agency_token(stack, caller, kind, services=(service,))
        print(f"  {service}: {examples} examples per operation …", flush=True)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{stack.base_url(service)}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                str(examples),
                "--seed",
                str(seed),
                "--phases",
                "examples,coverage,fuzzing",
                "--no-color",
                "--report",
                "junit",
                "--report-junit-path",
                str(report_dir / f"fuzz-{service}.xml"),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=report_dir,  # Schemathesis keeps its cache of found crashes (replayed next time) there
        )
        cases = _CASES.findall(run.stdout)
        operations = _OPERATIONS.findall(run.stdout)
        tested = int(operations[-1]) if operations else 0
        results.append(Fuzzed(service, tested, int(cases[-1]) if cases else 0, run.returncode == 0))
        if run.returncode != 0:
            print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
    # The callers reported random capacities and registered random rosters; undo that, or routing would
    # skip them and their notifications go nowhere for whatever runs next on this stack.
    print("  restoring every agency's capacity and roster to the directory's …", flush=True)
    use_directory_defaults(stack)
    return results


def table(results: list[Fuzzed]) -> str:
    lines = ["| service | operations | cases | 5xx |", "|---|---|---|---|"]
    lines += [f"| {r.service} | {r.operations} | {r.cases} | {'none' if r.passed else 'FOUND'} |" for r in results]
    return "\n".join(lines) + "\n"

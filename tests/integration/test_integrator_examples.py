"""The integrators' examples, run as written, so they stay true: the kcat script and the README's Python."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices

ROOT = Path(__file__).parents[2]


async def consultation_for(services: RunningServices, submission_id: str) -> bool:
    found = await services.runtime("intake").pool.fetchval(
        "SELECT 1 FROM consultations WHERE idempotency_key = $1", f"kafka:{submission_id}"
    )
    return bool(found)


async def test_the_kcat_example_submits_a_signed_consultation(services: RunningServices, bootstrap: str) -> None:
    token = await services.token("chiku-fukushi-katase", AgencyType.DISTRICT_WELFARE_COUNTER)
    script = await asyncio.create_subprocess_exec(
        str(ROOT / "docs" / "examples" / "submit-with-kcat.sh"),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "TOKEN": token, "BOOTSTRAP": bootstrap},
    )
    out, _ = await script.communicate()
    assert script.returncode == 0
    submission_id = out.decode().strip().splitlines()[-1]
    await eventually(lambda: consultation_for(services, submission_id), within=30)


async def test_the_readme_python_kafka_example_runs_as_written(services: RunningServices) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(import base64, hashlib, hmac, json, uuid\n.*?)```", readme, re.S)
    assert block is not None, "the README's Kafka example moved; keep this test pointing at it"
    token = await services.token("shogai-kikan", AgencyType.DISABILITY_CORE)
    public_key = (await (services.client("intake")).get("/v1/keys/submission")).json()["public_key"]
    code = block.group(1).replace(
        'httpx.get("http://127.0.0.1:8101/v1/keys/submission").json()["public_key"]', repr(public_key)
    )  # the in-process intake has no port
    namespace: dict[str, object] = {"TOKEN": token}
    indented = "".join(f"    {line}\n" for line in code.splitlines())
    exec(f"async def example():\n{indented}    await producer.stop()\n    return ce_id\n", namespace)
    submission_id = await namespace["example"]()  # type: ignore[operator]
    await eventually(lambda: consultation_for(services, str(submission_id)), within=30)
    assert uuid.UUID(str(submission_id))

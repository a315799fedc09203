"""The container's health check: the service answers /health (alive) and /ready (database, Kafka and
background loops up). Exit 0 when both answer 200, 1 otherwise, saying which failed.

Standard library only, so it runs in the service image without anything else installed.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def answers(path: str, port: str) -> bool:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return False


def main() -> int:
    port = os.environ.get("BACKBONE_HTTP__PORT", "8000")
    return 0 if answers("/health", port) and answers("/ready", port) else 1


if __name__ == "__main__":
    raise SystemExit(main())

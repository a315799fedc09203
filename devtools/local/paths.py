"""Where the local runtime keeps jars, data, logs, secrets and pid files (outside the repository)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


@dataclass(frozen=True)
class LocalPaths:
    home: Path

    @classmethod
    def default(cls) -> LocalPaths:
        """$BACKBONE_HOME, or ~/.fujisawa-backbone."""
        return cls(Path(os.environ.get("BACKBONE_HOME", Path.home() / ".fujisawa-backbone")))

    @property
    def kafka(self) -> Path:
        return self.home / "kafka"

    @property
    def cluster(self) -> Path:
        """The three-node Kafka cluster of `backbone cluster up` (its nodes' data, logs and pid files)."""
        return self.home / "cluster"

    @property
    def postgres(self) -> Path:
        return self.home / "postgres"

    @property
    def ha_marker(self) -> Path:
        """Present while `backbone up --ha` is this home's choice: the services use the PostgreSQL pair."""
        return self.home / "postgres-ha"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets.json"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

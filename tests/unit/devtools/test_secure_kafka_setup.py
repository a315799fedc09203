"""The secured local broker's set-up without a broker: the model's ACLs as Kafka bindings, the passwords' file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from backbone.acl import Acl, read_principal_acls
from devtools.local.kafka_acls import bindings
from devtools.local.scram import ScramUsers


def test_every_acl_of_the_model_becomes_kafka_bindings() -> None:
    acls = [acl for rules in read_principal_acls().values() for acl in rules]
    made = bindings(acls)
    assert len(made) == sum(len(acl.operations) for acl in acls)
    assert all(binding.principal.startswith("User:") for binding in made)


def test_an_operation_without_a_kafka_code_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Alter"):
        bindings([Acl("svc-audit", "topic", "audit.dlq.v1", ("Alter",))])


def test_passwords_are_random_kept_across_saves_and_private(tmp_path: Path) -> None:
    file = tmp_path / "credentials.json"
    first = ScramUsers({}).with_users(["admin", "svc-intake"])
    first.save(file, bootstrap_servers="127.0.0.1:29092")
    file.chmod(0o644)  # even a file loosened meanwhile is written back private
    again = ScramUsers.load(file).with_users(["admin", "svc-intake", "agency-chiku-fukushi-katase"])
    again.save(file, bootstrap_servers="127.0.0.1:29092")

    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    loaded = ScramUsers.load(file)
    assert {k: loaded.passwords[k] for k in first.passwords} == first.passwords
    assert len(set(loaded.passwords.values())) == 3
    settings = loaded.settings("svc-intake", "127.0.0.1:29092")
    assert (settings.security_protocol, settings.sasl_mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")


def test_the_format_command_carries_no_password() -> None:
    users = ScramUsers({}).with_users(["admin", "svc-referral"])
    arguments = users.format_arguments()
    assert arguments.count("--add-scram") == 2
    assert not [arg for arg in arguments for password in users.passwords.values() if password in arg]
    assert all("saltedpassword=" in arg for arg in arguments if arg != "--add-scram")

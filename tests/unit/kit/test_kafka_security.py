"""Kafka client security: one set of settings gives the same options to aiokafka and to FastStream."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512

from backbone.kafka import KafkaSettingsError, broker_security, client_options
from backbone.settings import KafkaSettings, ServiceSettings


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_plaintext_is_the_local_default_and_splits_the_bootstrap_list() -> None:
    settings = KafkaSettings(bootstrap_servers="kafka-1:9092, kafka-2:9092,kafka-3:9092")
    assert client_options(settings) == {
        "bootstrap_servers": ["kafka-1:9092", "kafka-2:9092", "kafka-3:9092"],
        "security_protocol": "PLAINTEXT",
    }
    assert broker_security(settings) is None


def test_sasl_ssl_with_scram_512_uses_the_ca_file_and_the_principal(tmp_path: Path) -> None:
    ca, _ = certificate(tmp_path, "backbone-ca")
    settings = KafkaSettings(
        bootstrap_servers="backbone-kafka-bootstrap:9093",
        security_protocol="SASL_SSL",
        sasl_username="svc-referral",
        sasl_password="s3cret",
        ssl_cafile=ca,
    )
    options = client_options(settings)
    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [cert["subject"] for cert in context.get_ca_certs()] == [((("commonName", "backbone-ca"),),)]
    assert options == {
        "bootstrap_servers": ["backbone-kafka-bootstrap:9093"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc-referral",
        "sasl_plain_password": "s3cret",
    }


@pytest.mark.parametrize(
    ("protocol", "mechanism", "security_type"),
    [
        ("SASL_SSL", "SCRAM-SHA-512", SASLScram512),
        ("SASL_SSL", "SCRAM-SHA-256", SASLScram256),
        ("SASL_PLAINTEXT", "SCRAM-SHA-512", SASLScram512),
        ("SASL_PLAINTEXT", "PLAIN", SASLPlaintext),
    ],
)
def test_fast_streams_broker_gets_exactly_the_options_the_other_clients_get(
    protocol: Any, mechanism: Any, security_type: type
) -> None:
    settings = KafkaSettings(
        security_protocol=protocol, sasl_mechanism=mechanism, sasl_username="svc-notify", sasl_password="pw"
    )
    security = broker_security(settings)
    assert type(security) is security_type
    # FastStream turns its security object into aiokafka's arguments; they must equal ours.
    from_faststream = {name: value for name, value in parse_security(security).items() if value is not None}
    ours = dict(client_options(settings))
    ours.pop("bootstrap_servers")
    from_faststream.pop("ssl_context", None)
    ours.pop("ssl_context", None)
    assert from_faststream == ours


def test_ssl_with_a_client_certificate_for_an_mtls_listener(tmp_path: Path) -> None:
    ca, _ = certificate(tmp_path, "ca")
    cert, key = certificate(tmp_path, "svc-audit")
    settings = KafkaSettings(security_protocol="SSL", ssl_cafile=ca, ssl_certfile=cert, ssl_keyfile=key)
    assert isinstance(client_options(settings)["ssl_context"], ssl.SSLContext)
    security = broker_security(settings)
    assert security is not None
    assert security.use_ssl
    assert parse_security(security)["security_protocol"] == "SSL"


def test_sasl_without_a_principal_names_the_variables_to_set() -> None:
    with pytest.raises(KafkaSettingsError) as refused:
        client_options(KafkaSettings(security_protocol="SASL_SSL"))
    message = str(refused.value)
    assert "BACKBONE_KAFKA__SASL_USERNAME" in message
    assert "BACKBONE_KAFKA__SASL_PASSWORD" in message

    with pytest.raises(KafkaSettingsError) as refused:
        client_options(KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username="svc-intake"))
    assert "BACKBONE_KAFKA__SASL_PASSWORD" in str(refused.value)
    assert "BACKBONE_KAFKA__SASL_USERNAME" not in str(refused.value)

    with pytest.raises(KafkaSettingsError):  # the broker's security object is built from the same check
        broker_security(KafkaSettings(security_protocol="SASL_SSL", sasl_password="pw"))


def test_settings_that_would_be_silently_ignored_are_refused(tmp_path: Path) -> None:
    ca, _ = certificate(tmp_path, "ca")
    with pytest.raises(KafkaSettingsError, match="BACKBONE_KAFKA__SSL_CAFILE set, but"):
        client_options(KafkaSettings(ssl_cafile=ca))
    with pytest.raises(KafkaSettingsError, match="does not authenticate") as refused:
        client_options(KafkaSettings(security_protocol="SSL", sasl_username="svc-meetings", sasl_password="pw"))
    assert "pw" not in str(refused.value).split("does not authenticate")[1]  # the password is never repeated


def test_a_missing_or_unreadable_tls_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KafkaSettingsError, match=r"BACKBONE_KAFKA__SSL_CAFILE=.*no such file"):
        client_options(KafkaSettings(security_protocol="SSL", ssl_cafile=tmp_path / "absent.crt"))
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate")
    with pytest.raises(KafkaSettingsError, match="cannot load the TLS files of BACKBONE_KAFKA__SSL_CAFILE"):
        client_options(KafkaSettings(security_protocol="SSL", ssl_cafile=garbage))
    _, key = certificate(tmp_path, "svc-audit")
    with pytest.raises(KafkaSettingsError, match="SSL_KEYFILE is set without"):
        client_options(KafkaSettings(security_protocol="SSL", ssl_keyfile=key))


def test_the_services_read_the_security_settings_from_their_environment() -> None:
    # The one test that reads the environment: these names are the contract with deploy/ (Compose, Kubernetes).
    environment = {
        "BACKBONE_SERVICE": "referral",
        "BACKBONE_DATABASE__DSN": "postgresql://referral@db/referral",
        "BACKBONE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "BACKBONE_KAFKA__SASL_MECHANISM": "SCRAM-SHA-256",
        "BACKBONE_KAFKA__SASL_USERNAME": "svc-referral",
        "BACKBONE_KAFKA__SASL_PASSWORD": "pw",
        "BACKBONE_KAFKA__SSL_CAFILE": "/etc/backbone/kafka-ca/ca.crt",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        kafka = ServiceSettings().kafka  # type: ignore[call-arg]
    assert kafka.security_protocol == "SASL_SSL"
    assert kafka.sasl_mechanism == "SCRAM-SHA-256"
    assert kafka.sasl_username == "svc-referral"
    assert kafka.sasl_password is not None and kafka.sasl_password.get_secret_value() == "pw"
    assert kafka.ssl_cafile == Path("/etc/backbone/kafka-ca/ca.crt")
    assert "pw" not in repr(kafka)

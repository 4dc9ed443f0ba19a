"""Mutual TLS to the broker, with a real Mosquitto TLS listener that requires client certificates:
our certificate accepted, a missing one and an untrusted broker named as certificate problems."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.services import Mosquitto
from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink import BrokerCertificateError, connect_blocking, make_client


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(d: Path, name: str) -> tuple[Path, Path]:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)  # fmt: skip
    return d / f"{name}.crt", d / f"{name}.key"


def _signed(d: Path, name: str, ca: tuple[Path, Path], ext: str) -> tuple[Path, Path]:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", cwd=d)  # fmt: skip
    (d / f"{name}.ext").write_text(ext)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
             "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=d)  # fmt: skip
    return d / f"{name}.crt", d / f"{name}.key"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = _ca(d, "test-ca")
    server = _signed(d, "broker", ca, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    client = _signed(d, "gw-a", ca, "extendedKeyUsage=clientAuth\n")
    other = _ca(d, "other-ca")
    return Pki(ca[0], server[0], server[1], client[0], client[1], other[0])


@pytest.fixture
def tls_broker(pki: Pki, mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    conf = f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\nrequire_certificate true\n"
    return mosquitto_factory(persistence=False, extra_conf=conf)


def _settings(broker: Mosquitto, **kw: object) -> MqttSettings:
    return MqttSettings(url=f"mqtts://127.0.0.1:{broker.port}", **kw)  # type: ignore[arg-type]


def test_a_client_certificate_opens_the_broker(tls_broker: Mosquitto, pki: Pki) -> None:
    settings = _settings(tls_broker, ca_file=str(pki.ca), cert_file=str(pki.client_cert), key_file=str(pki.client_key))
    client = make_client(settings, "mtls-ok")
    connect_blocking(client, settings)
    try:
        info = client.publish("t/x", b"1", qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def test_no_client_certificate_is_named_as_such(tls_broker: Mosquitto, pki: Pki) -> None:
    settings = _settings(tls_broker, ca_file=str(pki.ca))
    client = make_client(settings, "mtls-none")
    with pytest.raises(BrokerCertificateError, match="certificate"):
        connect_blocking(client, settings, timeout_s=20)


def test_an_untrusted_broker_certificate_is_named_as_such(tls_broker: Mosquitto, pki: Pki) -> None:
    settings = _settings(
        tls_broker, ca_file=str(pki.other_ca), cert_file=str(pki.client_cert), key_file=str(pki.client_key)
    )
    client = make_client(settings, "mtls-rogue")
    with pytest.raises(BrokerCertificateError, match=r"broker's TLS certificate was refused"):
        connect_blocking(client, settings)


def test_certificate_files_come_from_the_environment_and_are_checked(pki: Pki, tmp_path: Path) -> None:
    doc = yaml.safe_dump({"city": {"id": "x"}, "services": {"mqtt": {"url": "mqtts://127.0.0.1:8883"}}})
    env = {"VA_MQTT_CERT_FILE": str(pki.client_cert), "VA_MQTT_KEY_FILE": str(pki.client_key)}
    cfg = load_config_text(doc, environ=env)
    assert (cfg.services.mqtt.cert_file, cfg.services.mqtt.key_file) == (str(pki.client_cert), str(pki.client_key))
    missing = MqttSettings(url="mqtts://127.0.0.1:8883", cert_file=str(tmp_path / "nope.crt"))
    with pytest.raises(ConfigError, match=r"services\.mqtt\.cert_file"):
        make_client(missing, "x")

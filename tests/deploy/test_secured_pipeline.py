"""The platform's own processes through the production broker: passwords, ACL and the shared
subscription of two ingest workers, as docker-compose.yml wires them (real mosquitto, SQLite store)."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.broker import ProdMosquitto, run_entrypoint
from tests.e2e.skeleton import write_config
from tests.support.ports import port_open
from tests.support.processes import CommandProcess, run_command
from tests.support.waiting import wait_for
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.factory import open_store

USERS = {
    "gw-a": ("MQTT_PASSWORD_GW_A", "pw-gateway-a"),
    "va-ingest-1": ("MQTT_PASSWORD_INGEST_1", "pw-ingest-1"),
    "va-ingest-2": ("MQTT_PASSWORD_INGEST_2", "pw-ingest-2"),
}


def _mqtt_env(user: str, password: str | None = None) -> dict[str, str]:
    return {"VA_MQTT_USERNAME": user, "VA_MQTT_PASSWORD": password if password is not None else USERS[user][1]}


def test_readings_flow_through_the_secured_broker_to_two_ingest_workers(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert run_entrypoint(run_dir, USERS).returncode == 0
    broker = ProdMosquitto(tmp_path / "broker", run_dir)
    broker.start()
    store_path = tmp_path / "store.sqlite"
    # topic root "va": the one deploy/mosquitto/acl names
    cfg = write_config(
        tmp_path / "platform.yaml",
        mqtt_url=broker.url,
        topic_root="va",
        store={"backend": "sqlite", "path": str(store_path)},
    )
    c = ["-c", str(cfg)]
    parts = [
        CommandProcess("simulate", ["simulate", *c], workdir=tmp_path),
        CommandProcess(
            "ingest-1",
            ["ingest", *c, "--shared-group", "va-ingest"],
            workdir=tmp_path,
            env={**_mqtt_env("va-ingest-1"), "VA_INGEST_CLIENT_ID": "va-ingest-1"},
        ),
        CommandProcess(
            "ingest-2",
            ["ingest", *c, "--shared-group", "va-ingest"],
            workdir=tmp_path,
            env={**_mqtt_env("va-ingest-2"), "VA_INGEST_CLIENT_ID": "va-ingest-2"},
        ),
        CommandProcess("gateway", ["gateway", *c, "--id", "gw-a"], workdir=tmp_path, env=_mqtt_env("gw-a")),
    ]
    store = None
    try:
        # started in the order docker-compose.yml's depends_on gives: the gateway once the
        # simulators' Modbus ports listen (simulators "healthy")
        devices = [d.address.rpartition(":") for _, _, d in load_config(cfg, environ={}).devices()]
        for p in parts:
            if p.name == "gateway":
                # bounded for a loaded machine: three processes start at once, each importing the platform
                wait_for(
                    lambda: all(port_open(h, int(port)) for h, _, port in devices), timeout=60, what="simulated devices"
                )
            p.start()
        store = open_store(StoreSettings(backend="sqlite", path=str(store_path)))
        opened = store
        stored = wait_for(
            lambda: {v.context.device for v in opened.latest()} >= {"meter-a", "load-a"},
            timeout=30,
            what="readings of both devices in the store",
        )
        assert stored
        for p in parts:
            assert p.running, f"{p.name} exited:\n{p.log()[-2000:]}"
        log = "".join(p.log() for p in parts)
        for _, password in USERS.values():
            assert password not in log, "a secret reached a log"
    finally:
        if store is not None:
            store.close()
        for p in reversed(parts):
            p.stop()
        for p in parts:
            print(f"--- {p.name} log ---\n{p.log()[-3000:]}")
        print(f"--- broker log ---\n{broker.log_tail(40)}")
        broker.kill()


def test_a_service_with_a_wrong_password_says_so_without_echoing_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert run_entrypoint(run_dir, USERS).returncode == 0
    broker = ProdMosquitto(tmp_path / "broker", run_dir)
    broker.start()
    try:
        cfg = write_config(
            tmp_path / "platform.yaml",
            mqtt_url=broker.url,
            topic_root="va",
            store={"backend": "sqlite", "path": str(tmp_path / "s.sqlite")},
        )
        result = run_command(
            ["ingest", "-c", str(cfg)], cwd=tmp_path, env=_mqtt_env("va-ingest-1", "not-the-password"), timeout=60
        )
        assert result.returncode == 2, result.stderr
        assert "refused" in result.stderr
        assert "Traceback" not in result.stderr
        assert "not-the-password" not in result.stderr + result.stdout
    finally:
        broker.kill()

"""The production broker of docker-compose.yml, run as a plain process for tests.

``deploy/mosquitto/entrypoint.sh`` builds the password file exactly as in the container; the
configuration is ``deploy/mosquitto/mosquitto.prod.conf`` with only its container paths and its
listener rewritten to a temp dir and a free loopback port.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.services import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO_DIR = ROOT / "deploy" / "mosquitto"
ENTRYPOINT = MOSQUITTO_DIR / "entrypoint.sh"
PROD_CONF = MOSQUITTO_DIR / "mosquitto.prod.conf"
ACL = MOSQUITTO_DIR / "acl"


def run_entrypoint(
    run_dir: Path, users: Mapping[str, tuple[str, str]], *, command: tuple[str, ...] = ("true",)
) -> subprocess.CompletedProcess[str]:
    """Run the container entrypoint with ``users`` = {user: (VARIABLE, password)}; it runs ``command`` last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSQUITTO_")}
    env["MOSQUITTO_RUN_DIR"] = str(run_dir)
    env["MOSQUITTO_ACL"] = str(ACL)
    env["MOSQUITTO_USERS"] = " ".join(f"{user}={var}" for user, (var, _) in users.items())
    for var, password in users.values():
        env[var] = password
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def render_prod_conf(text: str, *, port: int, run_dir: Path, data_dir: Path) -> str:
    """The production configuration with its listener on 127.0.0.1:``port`` and its paths in temp dirs."""
    out = []
    for line in text.splitlines():
        if line.strip() == "listener 1883":
            line = f"listener {port} 127.0.0.1"
        out.append(line.replace("/mosquitto/run/", f"{run_dir}/").replace("/mosquitto/data/", f"{data_dir}/"))
    return "\n".join(out) + "\n"


class ProdMosquitto(Mosquitto):
    """Mosquitto started with the production configuration (no anonymous, password file, ACL)."""

    def __init__(self, workdir: Path, run_dir: Path) -> None:
        super().__init__(workdir)
        self.run_dir = run_dir

    def _write_conf(self) -> None:
        data_dir = self.workdir / "data"
        data_dir.mkdir(exist_ok=True)
        conf = render_prod_conf(PROD_CONF.read_text(), port=self.port, run_dir=self.run_dir, data_dir=data_dir)
        conf += f"pid_file {self.workdir}/mosquitto.pid\n"
        if os.geteuid() == 0:
            conf += "user root\n"  # as root it would switch to user mosquitto, which cannot write the temp dir
        self.conf_path.write_text(conf)

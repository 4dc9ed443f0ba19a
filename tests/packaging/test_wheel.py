"""The built distribution: one import name, every module and data file inside, a working console script.

Builds the sdist and, from it, the wheel (``python -m build``, as a release would), then installs
the wheel without its dependencies into a fresh venv that sees the test venv's third-party
packages but not this checkout, and runs the console script from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "ville_autonome"
# folders of the checkout and where they land in the package
SOURCES = {
    ROOT / "ville_autonome": PACKAGE,
    ROOT / "gateway": f"{PACKAGE}/gateway",
    ROOT / "ingest": f"{PACKAGE}/ingest",
    ROOT / "dashboard_api": f"{PACKAGE}/dashboard_api",
    ROOT / "simulators": f"{PACKAGE}/simulators",
}
DATA = ("*.yaml", "*.js", "*.css", "*.html", "*.svg", "*.json", "*.ttf")

pytestmark = pytest.mark.slow


def _checkout_files() -> set[str]:
    """Every module and data file of the package, as its path inside the wheel."""
    out: set[str] = set()
    for src, dest in SOURCES.items():
        for pattern in ("*.py", *DATA):
            for f in src.rglob(pattern):
                rel = f.relative_to(src)
                if "__pycache__" in rel.parts or (src.name == PACKAGE and rel.parts[0] in {p.name for p in SOURCES}):
                    continue  # links to the root folders are counted from the root
                out.add(f"{dest}/{rel.as_posix()}")
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_the_wheel_has_one_top_level_name_and_every_file(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as zf:
        names = set(zf.namelist())
        top_level = zf.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
    assert top_level == [PACKAGE]
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {PACKAGE}
    missing = _checkout_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    for data in (
        f"{PACKAGE}/registers/profiles/sunspec-meter-203.yaml",
        f"{PACKAGE}/simulators/scenarios/amiens.yaml",
        f"{PACKAGE}/dashboard_api/web/static/index.html",
    ):
        assert data in names


def test_the_sdist_holds_the_root_folders_and_the_package(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    assert "gateway/service.py" in members
    assert "ville_autonome/storage/base.py" in members
    assert "pyproject.toml" in members


def test_the_console_script_runs_from_the_wheel_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    bindir = venv / "bin"
    site = Path(
        subprocess.run(
            [bindir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # third-party packages from the test venv, by path only: its .pth files (the editable install
    # of this checkout among them) are not processed, so ville_autonome can only come from the wheel
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(bindir / "python"),
            "install",
            "-q",
            "--no-deps",
            str(_wheel(dist)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VA_CONFIG")}
    where = subprocess.run(
        [bindir / "python", "-c", "import ville_autonome; print(ville_autonome.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert where.startswith(str(site))
    help_text = subprocess.run(
        [bindir / "ville-autonome", "--help"], check=True, capture_output=True, text=True, cwd=tmp_path, env=env
    ).stdout
    for sub in ("simulate", "gateway", "ingest", "api", "demo", "check-config", "report"):
        assert sub in help_text
    checked = subprocess.run(
        [bindir / "ville-autonome", "check-config", str(ROOT / "config" / "amiens.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: ")


def test_the_core_wheel_requires_none_of_the_extras_packages(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [
        Requirement(line.split(":", 1)[1].strip())
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    core = {canonicalize_name(r.name) for r in requires if r.marker is None}
    by_extra = {
        extra: {
            canonicalize_name(r.name) for r in requires if r.marker is not None and r.marker.evaluate({"extra": extra})
        }
        for extra in ("reports", "planning")
    }
    assert {"paho-mqtt", "pymodbus", "fastapi", "uvicorn", "amqtt", "plotly"} <= core
    assert not core & {"typst", "matplotlib", "openpyxl", "lxml", "pvlib", "pandas", "scipy", "h5py"}
    assert by_extra == {"reports": {"typst", "matplotlib", "openpyxl", "lxml"}, "planning": {"pvlib"}}

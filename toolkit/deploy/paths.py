"""Every path under the project's state folder (`[project].state_dir`, default `.toolkit/`, git-ignored).

<state>/state/<stack>/                      local backend: terraform.tfstate, workspaces/<env>/terraform.tfstate
<state>/<env>/<stack>/tfdata/               TF_DATA_DIR of one environment and stack
<state>/<env>/<stack>/<purpose>.tfplan      a saved plan, only while the run that made it needs it
<state>/<env>/<stack>/inputs.tfvars.json    what toolkit injects into the stack, while Terraform runs
<state>/<env>/rendered/                     the pipelines rendered for the environment (its stack deploys them)
<state>/<env>/bundle/rendered/              a plan bundle's rendered pipelines, where its saved plan reads them
<state>/<env>/terraform-outputs.lock        serialises reading outputs between local processes
<state>/<env>/postgres/                     the embedded PostgreSQL of a `database = "embedded"` environment
<state>/<env>/<stack>/errored.tfstate       a state Terraform could not save, until `env push-state` pushes it
<state>/environments/, <state>/deployments/, <state>/protection/  records on the local backend
<state>/cache/                              what a run derived and the next may reuse (`cache`; --no-cache)
<state>/emulator/                           --emulator's moto server (server.json, moto.log)
<state>/emulator/<env>/network.tfvars.json  the emulated network's ids, a last var file in emulator mode
<state>/emulator/<env>/postgres/<instance>/ the stand-in PostgreSQL of one RDS instance in emulator mode
<state>/terraformrc                         installs the AWS provider from TOOLKIT_PROVIDER_MIRROR

The state folder is the owner's only (`private`): no read or write for anyone else, and toolkit's CLI
runs with umask 077, so what it and Terraform write below it (local state, the server's log) is 0600.

One path is outside the state folder, and derived from it: when toolkit runs as root and the embedded
PostgreSQL's unprivileged user cannot enter the state folder (a clone under /root, in `mktemp -d`), the
server's data is kept in /var/lib/toolkit-postgres/<digest of the state folder>/<env>/ instead.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

OUTSIDE_ROOT = Path("/var/lib/toolkit-postgres")  # root-owned: see `postgres_outside`


@dataclass(frozen=True)
class StatePaths:
    root: Path  # the state folder itself

    def environment(self, env: str) -> Path:
        """Working files of one environment: removed with it when toolkit created its workspaces."""
        return self.root / env

    def terraform_data(self, env: str, stack: str) -> Path:
        return self.root / env / stack / "tfdata"

    def local_backend(self, stack: str) -> Path:
        return self.root / "state" / stack

    def local_workspace(self, stack: str, env: str) -> Path:
        """One environment's workspace on the local backend (Terraform's `workspace_dir` layout: its state is
        `terraform.tfstate` in it)."""
        return self.local_backend(stack) / "workspaces" / env

    def saved_plan(self, env: str, stack: str, purpose: str) -> Path:
        return self.root / env / stack / f"{purpose}.tfplan"

    def injected_inputs(self, env: str, stack: str) -> Path:
        return self.root / env / stack / "inputs.tfvars.json"

    def rendered(self, env: str) -> Path:
        return self.root / env / "rendered"  # not <env>/pipelines: that is the stack's folder

    def bundle_rendered(self, env: str) -> Path:
        return self.root / env / "bundle" / "rendered"

    def outputs_lock(self, env: str) -> Path:
        return self.root / env / "terraform-outputs.lock"

    def postgres(self, env: str) -> Path:
        return self.root / env / "postgres"

    def postgres_data(self, env: str) -> Path:
        return self.postgres(env) / "data"

    def outside(self) -> Path:
        """This state folder's own folder under OUTSIDE_ROOT: toolkit's, as the state folder is."""
        return OUTSIDE_ROOT / hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:16]

    def postgres_outside(self, env: str) -> Path:
        """Where the local server's data goes when its user cannot reach `postgres(env)` (as root only)."""
        return self.outside() / env

    def cache(self, name: str) -> Path:
        """A cache file (see docs/caching.md): every entry keyed by all that could change it; removable."""
        return self.root / "cache" / name

    def emulator(self) -> Path:
        """`--emulator`'s moto server: server.json (its pid and port) and moto.log."""
        return self.root / "emulator"

    def emulator_network(self, env: str) -> Path:
        """The ids of the network emulator mode made for the environment, passed as a last var file."""
        return self.root / "emulator" / env / "network.tfvars.json"

    def stand_ins(self, env: str) -> Path:
        """The stand-in PostgreSQL servers of the environment's RDS instances in emulator mode."""
        return self.root / "emulator" / env / "postgres"

    def stand_ins_outside(self, env: str) -> Path:
        return self.postgres_outside(f"emulator-{env}")

    def mirror_config(self) -> Path:
        """The Terraform CLI configuration that installs the AWS provider from TOOLKIT_PROVIDER_MIRROR."""
        return self.root / "terraformrc"

    def records(self, kind: str) -> Path:
        return self.root / kind


def private(folder: Path) -> Path:
    """Create the state folder owner-only (0700), or take group and other read and write away from an
    existing one; the execute bits an embedded server's user needs to pass through are kept."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o066:
        folder.chmod(stat.S_IMODE(info.st_mode) & ~0o066)
    return folder


def enterable_outside_root(root: Path = OUTSIDE_ROOT) -> Path:
    """OUTSIDE_ROOT, made if missing, that the server's unprivileged user can pass through (x, not r). Made by
    the CLI's umask 077 alone it would be 0700, and the first server ever kept outside would be refused;
    a root of ours from such a run is let through the same way. Someone else's is left as it is."""
    root.mkdir(parents=True, exist_ok=True)
    info = root.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o011 != 0o011:
        root.chmod(stat.S_IMODE(info.st_mode) | 0o011)
    return root

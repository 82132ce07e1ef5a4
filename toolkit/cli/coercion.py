"""Option values coerced without pydantic, for the plain annotations toolkit's commands use.

typer (from 0.2x) coerces every option and argument that is not an already-boolean flag through a
pydantic TypeAdapter, and builds it on first use, so any command paid ~90 ms importing pydantic just
to turn `"local"` into `"local"`. `install()` wraps typer's `build_runtime_param`: a value that is
already what its annotation asks for (a `str` for `str`, a `bool` for `bool`, a string or path for a `Path` without
existence or resolve checks, a sequence of those for `list[...]`) is returned as typer would return
it; anything else (enums, numbers, bytes, constrained paths, wrong types) goes to typer's own
coercion, built only then, so its checks and messages are unchanged. An older typer without that
function (coercion through click types, no pydantic) is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin


def _plain_path(annotation: Any, info: Any) -> bool:
    return (
        annotation is Path
        and getattr(info, "parser", None) is None
        and not getattr(info, "exists", False)
        and not getattr(info, "resolve_path", False)
        and not getattr(info, "allow_dash", False)
        and getattr(info, "path_type", None) is None
    )


def _leaf(annotation: Any, info: Any):
    """A converter for one value, or None when typer's own coercion must decide."""
    if getattr(info, "parser", None) is not None:
        return None
    if annotation is str:
        return lambda value: value if isinstance(value, str) else _FALLBACK
    if annotation is bool:  # a flag's True/False; a string ("yes", "0") is typer's to parse
        return lambda value: value if isinstance(value, bool) else _FALLBACK
    if _plain_path(annotation, info):
        return lambda value: Path(value) if isinstance(value, (str, Path)) else _FALLBACK
    return None


_FALLBACK = object()


def converter(annotation: Any, info: Any):
    """How a value of `annotation` is taken without pydantic: a function returning the value or
    `_FALLBACK` (hand it to typer), or None for annotations this module does not handle."""
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (None,)
        leaf = _leaf(item, info)
        if leaf is None:
            return None

        def many(value: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                return _FALLBACK
            converted = [leaf(v) for v in value]
            return _FALLBACK if any(v is _FALLBACK for v in converted) else converted

        return many
    return _leaf(annotation, info)


def install() -> None:
    try:
        import typer.core as core
        from typer._coercion import RuntimeParam
    except ImportError:  # typer before 0.2x: click types, no pydantic
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_toolkit", False):
        return

    class PlainRuntimeParam(RuntimeParam):
        """typer's RuntimeParam contract (None, multi-value checks in `coerce`), the value taken as is."""

        def __init__(self, descriptor: Any, convert) -> None:
            super().__init__(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
            object.__setattr__(self, "_descriptor", descriptor)
            object.__setattr__(self, "_convert", convert)
            object.__setattr__(self, "_typer", None)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            converted = self._convert(value)
            if converted is not _FALLBACK:
                return converted
            if self._typer is None:
                object.__setattr__(self, "_typer", original(self._descriptor))
            return self._typer._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        if getattr(descriptor, "file_annotation", None) is None:
            convert = converter(descriptor.annotation, descriptor.parameter_info)
            if convert is not None:
                return PlainRuntimeParam(descriptor, convert)
        return original(descriptor)

    build._toolkit = True  # type: ignore[attr-defined]
    core.build_runtime_param = build

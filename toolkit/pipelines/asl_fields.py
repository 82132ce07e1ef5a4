"""Step Functions fields per query language: JSONPath states (paths, reference paths, payload templates
with `.$` keys and intrinsic functions) and JSONata states (`{% … %}` strings parsed), each kept to
its own fields."""

from __future__ import annotations

from typing import Any

from toolkit.pipelines import placeholders
from toolkit.pipelines.asl_paths import intrinsic_error, is_path, jsonata_error, looks_like_jsonata

JSONPATH_ONLY = {
    "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "ItemsPath", "SecondsPath",
    "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "ErrorPath", "CausePath",
    "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "MaxConcurrencyPath", "Iterator",
}  # fmt: skip
JSONATA_ONLY = {"Arguments", "Output", "Items"}
PATH_FIELDS = {
    "InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath",
    "HeartbeatSecondsPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath",
    "MaxConcurrencyPath", "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath", "MaxItemsPath",
}  # fmt: skip
NUMERIC = {
    "Seconds", "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailureCount",
    "ToleratedFailurePercentage", "MaxItemsPerBatch", "MaxInputBytesPerBatch", "MaxItems",
}  # fmt: skip
TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector", "Credentials", "Assign")


class FieldChecks:
    """The field checks of `asl._Machine`, which provides `add(path, keyword, message)`."""

    def add(self, path: tuple, keyword: str, message: str) -> None:
        raise NotImplementedError

    def jsonata_state(self, state: dict, where: tuple) -> None:
        for field in sorted(JSONPATH_ONLY & set(state)):
            self.add((*where, field), "asl:query-language", f"{field} is a JSONPath field; this state uses JSONata")
        for field in sorted(NUMERIC & set(state)):
            value = state[field]
            if isinstance(value, str) and not looks_like_jsonata(value) and not placeholders.contains(value):
                self.add((*where, field), "asl:jsonata", f"{field} takes a number or a '{{% expression %}}'")
        nested = {"Branches", "Iterator", "ItemProcessor", "Comment"}
        for key, value in state.items():
            if key not in nested:
                self.jsonata_strings(value, (*where, key))

    def jsonata_strings(self, value: Any, path: tuple) -> None:
        if isinstance(value, str):
            if looks_like_jsonata(value) and not placeholders.contains(value):
                error = jsonata_error(value)
                if error:
                    self.add(path, "asl:jsonata", error)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "Comment":
                    self.jsonata_strings(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.jsonata_strings(item, (*path, index))

    def jsonpath_state(self, state: dict, where: tuple) -> None:
        for field in sorted(JSONATA_ONLY & set(state)):
            self.add((*where, field), "asl:query-language", f"{field} is a JSONata field; this state uses JSONPath")
        self.paths(state, where)
        for key in ("ItemBatcher", "ItemReader"):
            if isinstance(state.get(key), dict):
                self.paths(state[key], (*where, key))
                if isinstance(state[key].get("ReaderConfig"), dict):
                    self.paths(state[key]["ReaderConfig"], (*where, key, "ReaderConfig"))
        self.result_path(state.get("ResultPath"), (*where, "ResultPath"))
        for key in ("ErrorPath", "CausePath"):
            value = state.get(key)
            if isinstance(value, str) and not is_path(value) and intrinsic_error(value):
                self.add((*where, key), "asl:path", f"{value!r} is neither a path nor an intrinsic function")
        for key in TEMPLATES:
            self.template(state.get(key), (*where, key))
        for key in ("ItemReader", "ResultWriter"):
            if isinstance(state.get(key), dict):
                self.template(state[key].get("Parameters"), (*where, key, "Parameters"))
        for index, catcher in enumerate(state.get("Catch") or []):
            if isinstance(catcher, dict):
                self.result_path(catcher.get("ResultPath"), (*where, "Catch", index, "ResultPath"))
                self.template(catcher.get("Assign"), (*where, "Catch", index, "Assign"))

    def paths(self, obj: dict, where: tuple) -> None:
        for field in sorted(NUMERIC & set(obj)):
            if isinstance(obj[field], str) and not placeholders.contains(obj[field]):
                message = f"{field} takes a number here; a JSONata expression needs a JSONata state"
                self.add((*where, field), "asl:query-language", message)
        for field in sorted(PATH_FIELDS & set(obj)):
            value = obj[field]
            if isinstance(value, str) and not placeholders.contains(value) and not is_path(value):
                self.add((*where, field), "asl:path", f"{value!r} is not a valid JSONPath")

    def result_path(self, value: Any, where: tuple) -> None:
        plain = isinstance(value, str) and not placeholders.contains(value)
        if plain and not is_path(value, reference=True, variables=False, context=False):
            self.add(where, "asl:path", f"{value!r} is not a reference path into the state's input ($...)")

    def template(self, value: Any, where: tuple) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.template(item, (*where, index))
            return
        if not isinstance(value, dict):
            return
        seen: dict[str, str] = {}
        for key, item in value.items():
            plain = key[:-2] if key.endswith(".$") else key
            if plain in seen:
                self.add((*where, key), "asl:duplicate-field",
                         f"{key!r} and {seen[plain]!r} both set {plain!r}")  # fmt: skip
            seen[plain] = key
            if key.endswith(".$"):
                if not isinstance(item, str):
                    self.add(
                        (*where, key),
                        "asl:path",
                        f"a field ending in .$ takes a path, not {type(item).__name__}",
                    )
                elif not placeholders.contains(item) and not is_path(item):
                    error = intrinsic_error(item) if item.startswith("States.") else None
                    if not item.startswith("States.") or error:
                        reason = error or "neither a path nor an intrinsic function"
                        self.add((*where, key), "asl:path", f"{item!r}: {reason}")
            else:
                self.template(item, (*where, key))

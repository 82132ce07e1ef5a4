"""`${name}` placeholders, filled from the environment's values (tfvars ∪ outputs) and Flyway built-ins.

Filling yields two texts: the SQL that runs, and the SQL people may see, with every sensitive value
masked. An unknown placeholder is reported before anything runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from toolkit.support import masking

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.:-]*)\}")


@dataclass(frozen=True)
class Placeholders:
    """Values by name; `values` is a toolkit.project.values.Values (or None outside an environment)."""

    values: object | None = None
    builtins: Mapping[str, str] = field(default_factory=dict)  # flyway:defaultSchema, flyway:table, …

    def resolve(self, name: str) -> tuple[str, bool] | None:
        """(text, sensitive) for a placeholder, or None if unknown."""
        if name in self.builtins:
            return self.builtins[name], False
        found = self.values.lookup(name) if self.values is not None else None
        if found is None:
            return None
        value = found.value
        text = value if isinstance(value, str) else json.dumps(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        if found.sensitive:
            masking.register(text)
        return text, found.sensitive


def names_in(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) if "${" in text else set()


def unknown(text: str, placeholders: Placeholders) -> list[str]:
    return sorted(name for name in names_in(text) if placeholders.resolve(name) is None)


def fill(text: str, placeholders: Placeholders) -> tuple[str, str]:
    """(SQL to run, SQL to show). Call `unknown()` first: an unknown name is left as written."""
    if "${" not in text:
        return text, text

    def run(match: re.Match) -> str:
        found = placeholders.resolve(match[1])
        return found[0] if found else match[0]

    def show(match: re.Match) -> str:
        found = placeholders.resolve(match[1])
        if not found:
            return match[0]
        return masking.MASK if found[1] else found[0]

    return PLACEHOLDER.sub(run, text), PLACEHOLDER.sub(show, text)

"""The JSON Schema of toolkit.toml, shipped in the package for editors (`toolkit schema toolkit.toml`).

The loader stays the authority (it also checks folders, files and cross references); the schema says
the same about keys, types and values, which tests/unit/project/test_toml_schema.py holds it to.
"""

from __future__ import annotations

from importlib import resources

TOOLKIT_TOML = "toolkit.toml"


def toolkit_toml_schema() -> str:
    return resources.files("toolkit.project").joinpath("schemas", "toolkit.toml.schema.json").read_text("utf-8")

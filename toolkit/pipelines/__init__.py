"""Pipeline definitions kept as JSON in the repo: strict loading, validation per kind, values, rendering.

Public entry points: `validate_for_environments`, `render`, `fingerprint` (see `toolkit.pipelines.api`).
"""

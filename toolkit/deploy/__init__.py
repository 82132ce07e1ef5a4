"""The orchestration the verbs share: context, state paths, validation, stacks and what toolkit injects into
them, the database step, pipeline rendering, records, progress and guards.

One `env up` is `commands/env.py:env_up` walking these modules in order; see docs/architecture.md."""

"""Support code every layer may use and that uses none: masking secrets, hashing, a per-user cache, the
reporter protocol, paths as shown to people."""

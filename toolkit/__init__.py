"""toolkit: stand a data environment up the same way every time."""

__version__ = "0.1.0"

"""The plan bundle as a format: its manifest, verifying it against what is true now, its summary."""

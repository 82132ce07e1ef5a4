"""The project: the `toolkit.toml` model and its loader, environment names, durations, var files and the
values resolver."""

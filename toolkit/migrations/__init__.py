"""SQL migrations: files on disk (discovery, checksums), the history table, planning and applying."""

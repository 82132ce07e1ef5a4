"""Glue Python shell script: load curated orders into PostgreSQL (arguments: --source, --db_*)."""

import sys

from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

args = getResolvedOptions(sys.argv, ["source", "db_host", "db_port", "db_name", "db_user"])
print(f"loading {args['source']} into {args['db_name']} at {args['db_host']}:{args['db_port']}")

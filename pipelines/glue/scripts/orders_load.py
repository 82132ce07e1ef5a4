"""Glue Python shell script: load curated orders into the analytics warehouse's daily_orders (sql/analytics/)
(arguments: --source, --db_*: the `databases.analytics` output)."""

import sys

from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

args = getResolvedOptions(sys.argv, ["source", "db_host", "db_port", "db_name", "db_user"])
print(f"loading {args['source']} into {args['db_name']} at {args['db_host']}:{args['db_port']}")

"""Read a database password from AWS Secrets Manager (the RDS-managed master secret is JSON)."""

from __future__ import annotations

import json

from toolkit.adapters.aws.clients import client
from toolkit.errors import DatabaseError
from toolkit.support import masking


def read_database_password(secret_arn: str, *, endpoint: str | None = None) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    region = secret_arn.split(":")[3] if secret_arn.count(":") >= 6 else None
    try:
        response = client("secretsmanager", region=region, endpoint=endpoint).get_secret_value(SecretId=secret_arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise DatabaseError(
            f"Secrets Manager refused to read {secret_arn}: {code}",
            hint="check the role's secretsmanager:GetSecretValue permission",
        ) from None
    except BotoCoreError as exc:
        raise DatabaseError(
            f"cannot reach Secrets Manager for {secret_arn}: {exc}",
            hint="check AWS credentials and network (or --endpoint)",
        ) from None
    raw = response.get("SecretString") or ""
    try:
        password = json.loads(raw)["password"]
    except (ValueError, KeyError, TypeError):
        password = raw  # a plain-text secret holds the password itself
    if not isinstance(password, str) or not password:
        raise DatabaseError(f"secret {secret_arn} holds no password")
    masking.register(password)
    return password

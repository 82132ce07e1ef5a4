"""A local AWS emulator (moto server, LocalStack) as boto3 sees it: which account it answers for."""

from __future__ import annotations

from toolkit.adapters.aws.clients import client
from toolkit.errors import ToolkitError

_ACCOUNT_IDS: dict[str, str] = {}


def emulator_account_id(endpoint: str) -> str:
    """The account id the emulator answers STS GetCallerIdentity with (moto: 123456789012 unless
    MOTO_ACCOUNT_ID says otherwise; LocalStack: 000000000000). Asked once per endpoint and process."""
    if endpoint not in _ACCOUNT_IDS:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            _ACCOUNT_IDS[endpoint] = client("sts", endpoint=endpoint).get_caller_identity()["Account"]
        except (BotoCoreError, ClientError, KeyError) as exc:
            raise ToolkitError(
                f"the AWS emulator at {endpoint} did not answer STS GetCallerIdentity: {exc}",
                hint="start the emulator first (e.g. `python -m moto.server -p 5000`); the AWS stacks "
                "read the account id, and the provider allows only the emulator's",
            ) from None
    return _ACCOUNT_IDS[endpoint]

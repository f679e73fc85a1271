"""moto's DynamoDB data-plane answers written with `json.dumps` instead of its generic response serializer, which
walks every attribute of every item against botocore's shapes and took a tenth of the local stack's CPU. moto's
results for these operations are already DynamoDB's wire format but for binary values (base64 on the wire);
anything else `json.dumps` cannot write goes through moto's own serializer. tests/integration/test_local_dynamodb.py
compares both on the same calls. Installed by moto_index.install.
"""

import base64
import json
from collections.abc import Callable
from typing import Any

DATA_PLANE = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                        "BatchWriteItem", "TransactWriteItems", "TransactGetItems"})
ENABLED = True  # the comparison tests turn it off to get moto's own answers


def _binary(value: Any) -> str:
    """Binary attribute values (B, BS) are base64 on the wire."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value))


def _serialized(original: Callable[..., Any]) -> Callable[..., Any]:
    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if not ENABLED or not isinstance(result, dict) or self._get_action() not in DATA_PLANE:
            return original(self, action_result)
        try:
            body = json.dumps(result, default=_binary)
        except (TypeError, ValueError):
            return original(self, action_result)
        return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
    return serialized


def patch() -> None:
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.responses import DynamoHandler

    DynamoHandler.serialized = _serialized(DynamoHandler.serialized)

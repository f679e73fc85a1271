"""The idempotency table (template.yaml's IdempotencyTable): Powertools' DynamoDB persistence layer for
`Idempotency-Key` records. Imported only when a request carries the header: Powertools' idempotency utility
imports boto3 at module level, which a handler's cold import must not pay for."""

from functools import cache

from postbox.dal import table
from postbox.settings import IdempotencySettings


@cache
def persistence_layer():
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # cold start: see above

    # The table's key is `id` and its TTL attribute `expiration` (Powertools' defaults); the shared low-level
    # client is reused, so its connections (and the tests' request counting) are too.
    return DynamoDBPersistenceLayer(table_name=IdempotencySettings.get().IDEMPOTENCY_TABLE_NAME,
                                    boto3_client=table.client())

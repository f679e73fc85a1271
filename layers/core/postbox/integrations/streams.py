"""DynamoDB Streams, read directly: the records of a failed batch, by sequence-number range."""

import json
from datetime import datetime
from functools import cache
from typing import Any


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import

    return boto3.client("dynamodbstreams")


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value))


def read_range(stream_arn: str, shard_id: str, start: str, end: str, *, max_reads: int = 1000) -> list[dict[str, Any]]:
    """Records with start <= sequence number <= end, as Lambda would have delivered them."""
    iterator = client().get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id,
                                           ShardIteratorType="AT_SEQUENCE_NUMBER",
                                           SequenceNumber=start)["ShardIterator"]
    records: list[dict[str, Any]] = []
    for _ in range(max_reads):
        response = client().get_records(ShardIterator=iterator, Limit=1000)
        for raw in response.get("Records", []):
            sequence = raw["dynamodb"]["SequenceNumber"]
            if int(sequence) > int(end):
                return records
            record = json.loads(json.dumps(raw, default=_json))
            record["eventSourceARN"] = stream_arn
            records.append(record)
        iterator = response.get("NextShardIterator")
        if not iterator or not response.get("Records"):
            return records
    return records

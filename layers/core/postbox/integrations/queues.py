"""Amazon SQS: the stream functions' on-failure destination, read back by `postbox redrive`."""

from functools import cache
from typing import Any


@cache
def client():
    import boto3

    return boto3.client("sqs")


def receive(queue_url: str, *, max_messages: int = 10, wait_seconds: int = 1) -> list[dict[str, Any]]:
    response = client().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_messages,
                                        WaitTimeSeconds=wait_seconds, VisibilityTimeout=60)
    return response.get("Messages", [])


def delete(queue_url: str, receipt_handle: str) -> None:
    client().delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)

"""Amazon SQS: the stream functions' on-failure destination, read back by `postbox redrive`; the alert
callback jobs (a FIFO queue)."""

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


def send_fifo(queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None:
    """One message to a FIFO queue; SQS drops a second message with the same deduplication id for 5 minutes."""
    client().send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId=group_id,
                          MessageDeduplicationId=deduplication_id)

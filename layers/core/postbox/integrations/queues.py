"""Amazon SQS: the stream functions' on-failure destination, read back by `postbox redrive`; the alert
callback jobs (a FIFO queue); the email and SMS channel jobs (a standard queue).

The stream publisher puts jobs through a `JobQueue` (docs/testing.md): `SqsJobQueue` in Lambda and in the local
stack, a recording fake in the rule tests."""

from functools import cache
from typing import Any, Protocol


class JobQueue(Protocol):
    """Where the publisher's jobs go: a standard queue (`send`, `send_batch`) or a FIFO queue (`send_fifo`)."""

    def send(self, queue_url: str, body: str) -> None: ...

    def send_batch(self, queue_url: str, bodies: list[str]) -> int: ...

    def send_fifo(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None: ...


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import

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


# SendMessageBatch takes at most 10 messages and 256 KiB in all.
BATCH_MAX_MESSAGES = 10
BATCH_MAX_BYTES = 256 * 1024


def send(queue_url: str, body: str) -> None:
    client().send_message(QueueUrl=queue_url, MessageBody=body)


def send_batch(queue_url: str, bodies: list[str]) -> int:
    """Every body to a standard queue with as few SendMessageBatch calls as the limits allow; raises if SQS
    refused any message (the caller retries them all: the consumer is idempotent). Returns the number of calls."""
    calls, size = 0, 0
    batch: list[str] = []
    for body in [*bodies, None]:
        length = len(body.encode()) if body is not None else 0
        if batch and (body is None or len(batch) == BATCH_MAX_MESSAGES or size + length > BATCH_MAX_BYTES):
            entries = [{"Id": str(i), "MessageBody": text} for i, text in enumerate(batch)]
            failed = client().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
            calls += 1
            if failed:
                raise RuntimeError(f"SQS refused {len(failed)} of {len(batch)} messages: {failed[0].get('Message')}")
            batch, size = [], 0
        if body is not None:
            batch.append(body)
            size += length
    return calls


class SqsJobQueue:
    """Amazon SQS through this module's calls; the boto3 client is built on the first send."""

    def send(self, queue_url: str, body: str) -> None:
        send(queue_url, body)

    def send_batch(self, queue_url: str, bodies: list[str]) -> int:
        return send_batch(queue_url, bodies)

    def send_fifo(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None:
        send_fifo(queue_url, body, group_id=group_id, deduplication_id=deduplication_id)

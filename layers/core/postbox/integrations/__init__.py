"""AWS clients (boto3), each built on first use."""

import threading
from typing import Any

_building = threading.Lock()


def aws_client(service: str, **options: Any) -> Any:
    """A client of boto3's default session. Clients are built one at a time: the session is not thread-safe, and
    the stream publisher's worker threads may be the first in a container to need a client."""
    import boto3  # cold start: boto3 loads with the first call, not at import

    with _building:
        return boto3.client(service, **options)

"""Calls that send something to a person (SES email, SNS SMS) and cannot be taken back: they are made once,
without botocore's automatic retries (a retried call may deliver twice), and their failures are sorted into
"certainly not sent" (NotSent: the service refused, or no connection was made) and everything else, after which
the message may or may not have gone out."""

from collections.abc import Callable
from typing import Any

# Refusals worth trying again later (the sending rate or a quota); other 4xx refusals are final.
RETRYABLE_CODES = frozenset({"Throttling", "ThrottlingException", "Throttled", "ThrottledException",
                             "TooManyRequestsException", "LimitExceededException", "SendingPausedException",
                             "ServiceUnavailable", "RequestLimitExceeded"})


class NotSent(Exception):
    """The service did not send: it refused (an answer with a 4xx status) or was never reached."""

    def __init__(self, reason: str, *, retryable: bool):
        super().__init__(reason)
        self.retryable = retryable


def client_config():
    from botocore.config import Config  # cold start: boto3 loads with the first call, not at import

    return Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 1})


def call_once(operation: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
    """The operation's response; NotSent when it certainly sent nothing. A 5xx answer, a read timeout or a
    connection lost after the request went out propagate as they are: the message may have been sent."""
    # cold start: botocore loads with the first call, not at import
    from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

    try:
        return operation(**params)
    except ClientError as error:
        response = getattr(error, "response", None) or {}
        status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        if status >= 500:
            raise
        code = (response.get("Error") or {}).get("Code", "")
        message = (response.get("Error") or {}).get("Message", "")
        raise NotSent(f"{code}: {message}".strip(": "), retryable=status == 429 or code in RETRYABLE_CODES) from None
    except (ConnectTimeoutError, EndpointConnectionError) as error:
        raise NotSent(f"{type(error).__name__}: {error}", retryable=True) from None

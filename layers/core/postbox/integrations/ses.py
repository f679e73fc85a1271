"""Amazon SES (API v2): one email, as a MIME message built by the caller (a text and an HTML part)."""

from functools import cache

from postbox.integrations.outbound import call_once, client_config


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import

    return boto3.client("sesv2", config=client_config())


def send_raw(sender: str, recipient: str, message: bytes) -> str:
    """Send once (see outbound.call_once); returns SES's message id. IAM: ses:SendEmail on the identity."""
    response = call_once(client().send_email, FromEmailAddress=sender, Destination={"ToAddresses": [recipient]},
                         Content={"Raw": {"Data": message}})
    return response["MessageId"]

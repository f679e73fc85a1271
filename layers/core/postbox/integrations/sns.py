"""Amazon SNS: SMS straight to a phone number (no topic)."""

from functools import cache

from postbox.integrations.outbound import call_once, client_config


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import

    return boto3.client("sns", config=client_config())


def send_sms(phone_number: str, text: str, *, sender_id: str = "") -> str:
    """Send once (see outbound.call_once) as a transactional SMS; returns SNS's message id. IAM: sns:Publish
    (a phone number is no resource ARN)."""
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    response = call_once(client().publish, PhoneNumber=phone_number, Message=text, MessageAttributes=attributes)
    return response["MessageId"]

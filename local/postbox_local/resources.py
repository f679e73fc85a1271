"""Creates the template's table, bucket and queue in moto server."""

import json
from email.utils import parseaddr

import boto3

from postbox.settings import ChannelSettings
from postbox_local import template
from postbox_local.state import (
    BUCKET_NAME,
    CURSOR_SECRET_NAME,
    FAILURE_QUEUE,
    IDEMPOTENCY_TABLE_NAME,
    LOCAL_QUEUES,
    TABLE_NAME,
    persistent_secret,
)


def create_all() -> dict[str, str]:
    spec = template.table_definition()
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE_NAME, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=spec["AttributeDefinitions"], KeySchema=spec["KeySchema"],
        GlobalSecondaryIndexes=spec["GlobalSecondaryIndexes"],
        StreamSpecification={"StreamEnabled": True, **spec["StreamSpecification"]},
    )
    ttl = spec["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(TableName=TABLE_NAME, TimeToLiveSpecification=ttl)
    create_idempotency_table()
    create_bucket()
    queue_url = boto3.client("sqs").create_queue(QueueName=FAILURE_QUEUE)["QueueUrl"]
    stream_arn = dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    urls = create_queues()
    create_email_identity()
    create_cursor_secret()
    return {"queue_url": queue_url, "stream_arn": stream_arn, "callback_queue_url": urls["CallbackQueue"],
            "callback_failure_queue_url": urls["CallbackFailureQueue"], "channel_queue_url": urls["ChannelQueue"],
            "channel_failure_queue_url": urls["ChannelFailureQueue"]}


def create_email_identity() -> None:
    """The SES identity of EMAIL_SENDER (the template's EmailSenderIdentity): moto, like SES, sends only from a
    verified identity, and an identity created in moto is verified at once."""
    address = parseaddr(ChannelSettings.get().EMAIL_SENDER)[1]
    if address:
        boto3.client("sesv2").create_email_identity(EmailIdentity=address)


def create_cursor_secret() -> None:
    """The template's CursorSecret: its value is kept in the state directory, so cursors outlive a restart."""
    boto3.client("secretsmanager").create_secret(Name=CURSOR_SECRET_NAME, SecretString=persistent_secret("cursor.key"))


def create_idempotency_table() -> None:
    """The Idempotency-Key records' table (template's IdempotencyTable), with its TTL."""
    spec = template.resources()["IdempotencyTable"]["Properties"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName=IDEMPOTENCY_TABLE_NAME, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=spec["AttributeDefinitions"], KeySchema=spec["KeySchema"])
    dynamodb.update_time_to_live(TableName=IDEMPOTENCY_TABLE_NAME,
                                 TimeToLiveSpecification=spec["TimeToLiveSpecification"])


def create_queues() -> dict[str, str]:
    """The template's queues with local names (state.LOCAL_QUEUES, dead-letter queues first), with their FIFO,
    visibility timeout and redrive settings. Returns their URLs by logical id."""
    sqs = boto3.client("sqs")
    urls: dict[str, str] = {}
    for logical_id, name in LOCAL_QUEUES.items():
        spec = template.queue_definition(logical_id)
        attributes = {"FifoQueue": "true"} if spec.get("FifoQueue") else {}
        if "VisibilityTimeout" in spec:
            attributes["VisibilityTimeout"] = str(spec["VisibilityTimeout"])
        redrive = spec.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"].split(".")[0]
            target_arn = sqs.get_queue_attributes(QueueUrl=urls[target], AttributeNames=["QueueArn"])
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": target_arn["Attributes"]["QueueArn"],
                                                      "maxReceiveCount": int(redrive["maxReceiveCount"])})
        urls[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return urls


def create_bucket() -> None:
    """The attachments bucket with the template's CORS and lifecycle rules (moto stores the rules; it never runs
    them). CloudFormation's property shapes become the S3 API's."""
    spec = template.bucket_definition()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET_NAME)
    cors_spec = spec.get("CorsConfiguration", {})
    if "Fn::If" in cors_spec:  # the rules for the AttachmentAllowedOrigins given; locally the web inbox's port varies
        cors_spec = cors_spec["Fn::If"][1]
    cors = [{"AllowedMethods": rule["AllowedMethods"], "AllowedOrigins": ["*"],
             "AllowedHeaders": rule.get("AllowedHeaders", []), "ExposeHeaders": rule.get("ExposedHeaders", []),
             "MaxAgeSeconds": int(rule.get("MaxAge", 0))}
            for rule in cors_spec.get("CorsRules", [])]
    if cors:
        s3.put_bucket_cors(Bucket=BUCKET_NAME, CORSConfiguration={"CORSRules": cors})
    rules = [lifecycle_rule(rule) for rule in spec.get("LifecycleConfiguration", {}).get("Rules", [])]
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=BUCKET_NAME, LifecycleConfiguration={"Rules": rules})


def lifecycle_rule(rule: dict) -> dict:
    """A CloudFormation lifecycle rule (Prefix, TagFilters, ExpirationInDays) in the S3 API's shape."""
    tags = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix", "")
    if tags and (prefix or len(tags) > 1):
        rule_filter: dict = {"And": {"Prefix": prefix, "Tags": tags}}
    elif tags:
        rule_filter = {"Tag": tags[0]}
    else:
        rule_filter = {"Prefix": prefix}
    out: dict = {"ID": rule["Id"], "Status": rule["Status"], "Filter": rule_filter}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    return out

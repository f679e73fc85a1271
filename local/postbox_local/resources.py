"""Creates the template's table, bucket and queue in moto server."""

import boto3

from postbox_local import template
from postbox_local.state import BUCKET_NAME, FAILURE_QUEUE, TABLE_NAME


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
    boto3.client("s3").create_bucket(Bucket=BUCKET_NAME)
    queue_url = boto3.client("sqs").create_queue(QueueName=FAILURE_QUEUE)["QueueUrl"]
    stream_arn = dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    return {"queue_url": queue_url, "stream_arn": stream_arn}

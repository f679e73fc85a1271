"""Powertools Logger and Metrics, one of each per container (configured by POWERTOOLS_* variables).

No Tracer: importing it costs ~250 ms of cold start (aws-xray-sdk); the template turns on Lambda's
own active tracing instead.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="postbox")
metrics = Metrics(namespace="Postbox", service="postbox")

"""The web inbox in AWS: the template's web bucket and CloudFront distribution, the config.json the page gets
(the WebConfig output), and `postbox web publish` (on moto's S3)."""

import json
import re

import boto3
import pytest
from moto import mock_aws

from postbox_local import template
from postbox_local.webpublish import IMMUTABLE, REVALIDATE, PublishError, publish


def _resource(name: str) -> dict:
    return template.resources()[name]["Properties"]


def test_distribution_serves_the_private_bucket_and_routes_the_api_on_the_same_origin():
    distribution = _resource("WebDistribution")["DistributionConfig"]
    origins = {o["Id"]: o for o in distribution["Origins"]}
    assert origins["web"]["OriginAccessControlId"] == {"Fn::GetAtt": "WebOriginAccessControl.Id"}
    assert origins["api"]["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    behaviors = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    for faces in ("/api/*", "/aalam/*"):
        assert behaviors[faces]["TargetOriginId"] == "api"
        assert {"POST", "DELETE", "PUT"} <= set(behaviors[faces]["AllowedMethods"])
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    blocked = _resource("WebBucket")["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    grant = _resource("WebBucketPolicy")["PolicyDocument"]["Statement"][0]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"} and grant["Action"] == "s3:GetObject"
    callbacks = _resource("UserClient")["CallbackURLs"]
    assert {"Fn::Sub": "https://${WebDistribution.DomainName}/"} in callbacks
    assert not [r for r in template.routes() if r.path.startswith("/local")]  # local-only endpoints stay local


def test_web_config_output_is_the_pages_config_for_cognito_and_iot_core():
    body, variables = template.load()["Outputs"]["WebConfig"]["Value"]["Fn::Sub"]
    assert variables == {"IotHost": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "IotDataEndpoint"}]}]}}
    values = {"CognitoDomainPrefix": "postbox-dev", "AWS::Region": "eu-west-1", "UserClient": "abc123",
              "IotHost": "a1b2-ats.iot.eu-west-1.amazonaws.com", "IotAuthorizer": "postbox-dev",
              "MqttTopicBase": "postbox"}
    config = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], body))
    assert config == {
        "auth": {"mode": "cognito", "domain": "https://postbox-dev.auth.eu-west-1.amazoncognito.com",
                 "client_id": "abc123", "scope": "openid postbox/user"},
        "api_base": "",
        "mqtt": {"url": "wss://a1b2-ats.iot.eu-west-1.amazonaws.com/mqtt", "authorizer": "postbox-dev",
                 "topic_base": "postbox"},
    }


class _CloudFront:
    def __init__(self):
        self.invalidations = []

    def create_invalidation(self, **kwargs):
        self.invalidations.append(kwargs)


def test_publish_uploads_the_bundle_and_config_with_their_caching(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    (dist / "assets" / "app-ABC.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    cloudfront = _CloudFront()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="web")
        outputs = {"WebBucketName": "web", "WebDistributionId": "E123",
                   "WebConfig": '{"auth": {"mode": "cognito"}, "api_base": ""}'}
        assert publish(outputs, s3, cloudfront, dist=dist, progress=lambda _: None) == 4
        heads = {key: s3.head_object(Bucket="web", Key=key)
                 for key in ("config.json", "index.html", "assets/app-ABC.js", "favicon.svg")}
        config = json.loads(s3.get_object(Bucket="web", Key="config.json")["Body"].read())
    assert config == {"auth": {"mode": "cognito"}, "api_base": ""}
    assert heads["assets/app-ABC.js"]["CacheControl"] == IMMUTABLE
    assert heads["assets/app-ABC.js"]["ContentType"].startswith(("text/javascript", "application/javascript"))
    assert heads["index.html"]["CacheControl"] == heads["config.json"]["CacheControl"] == REVALIDATE
    assert heads["index.html"]["ContentType"] == "text/html; charset=utf-8"
    paths = cloudfront.invalidations[0]["InvalidationBatch"]["Paths"]["Items"]
    assert {"/index.html", "/config.json"} <= set(paths)


def test_publish_refuses_an_unbuilt_page_and_a_bad_config(tmp_path):
    with pytest.raises(PublishError, match="not built"):
        publish({"WebBucketName": "web", "WebDistributionId": "E1", "WebConfig": "{}"}, None, None,
                dist=tmp_path, progress=lambda _: None)
    (tmp_path / "index.html").write_text("<!doctype html>")
    with pytest.raises(PublishError, match="not JSON"):
        publish({"WebBucketName": "web", "WebDistributionId": "E1", "WebConfig": "{"}, None, None,
                dist=tmp_path, progress=lambda _: None)

"""Who may subscribe to what on AWS IoT Core (docs/realtime.md): the custom authorizer's decision.

A user may connect with a client id of their own and receive only their inbox topic, their own user
target topic, and the topics of targets they can view. Everything else is denied by omission.
"""

import json
from dataclasses import dataclass
from typing import Any

from postbox.auth import USER_SCOPE
from postbox.dal import directory
from postbox.settings import IotPolicySettings, MqttSettings
from postbox.topics import TopicError, inbox_topic, target_topic

POLICY_MAX_CHARS = 2048      # IoT Core's limit per policy document
POLICY_MAX_DOCUMENTS = 10    # and per authorizer response
REFRESH_SECONDS = 300        # re-evaluated at least this often, so revoked roles take effect
MAX_SESSION_SECONDS = 86400
TARGET_TYPES_FOR_SUPERUSERS = ("xform", "project", "kmskey", "entitylist")


@dataclass(frozen=True)
class Grant:
    user_id: str
    topics: list[str]          # exact topics; a superuser's also include `{base}/{type}/*` (IoT policy wildcard)


def principal_id(user_id: str) -> str:
    """IoT principal ids are [A-Za-z0-9]{1,128}: hex of the directory id keeps them unique and reversible."""
    return "u" + user_id.encode().hex()[:127]


def grant_for(user_id: str) -> Grant | None:
    """The topics a directory user may receive, or None for an unknown or inactive user."""
    user = directory.get_user(user_id)
    if user is None or not user.get("active", True):
        return None
    topics = [inbox_topic(user_id), target_topic("user", user_id)]
    base = MqttSettings.get().MQTT_TOPIC_BASE
    if user.get("superuser"):
        topics += [f"{base}/{target_type}/*" for target_type in TARGET_TYPES_FOR_SUPERUSERS]
    else:
        for target_type, target_id in sorted(set(directory.viewable_targets(user_id))):
            try:
                topics.append(target_topic(target_type, target_id))
            except TopicError:
                continue
    return Grant(user_id, list(dict.fromkeys(topics)))


def _arn(kind: str, name: str) -> str:
    settings = IotPolicySettings.get()
    return f"arn:aws:iot:{settings.AWS_REGION}:{settings.AWS_ACCOUNT_ID}:{kind}/{name}"


def policy_documents(grant: Grant) -> list[str]:
    """IoT policies (JSON strings) within IoT Core's size limits; topics that do not fit are left out."""
    client_ids = _arn("client", f"{principal_id(grant.user_id)}-*")
    connect = {"Effect": "Allow", "Action": "iot:Connect", "Resource": client_ids}
    documents: list[str] = []
    pending: list[dict[str, Any]] = [connect]
    for topic in grant.topics:
        statements = [{"Effect": "Allow", "Action": "iot:Subscribe", "Resource": _arn("topicfilter", topic)},
                      {"Effect": "Allow", "Action": "iot:Receive", "Resource": _arn("topic", topic)}]
        candidate = json.dumps({"Version": "2012-10-17", "Statement": pending + statements})
        if len(candidate) > POLICY_MAX_CHARS and pending:
            documents.append(json.dumps({"Version": "2012-10-17", "Statement": pending}))
            pending = []
            if len(documents) == POLICY_MAX_DOCUMENTS:
                return documents
        pending += statements
    if pending:
        documents.append(json.dumps({"Version": "2012-10-17", "Statement": pending}))
    return documents[:POLICY_MAX_DOCUMENTS]


def authorize(claims: dict[str, Any], now: int) -> dict[str, Any]:
    """The custom authorizer's response for verified access-token claims."""
    denied = {"isAuthenticated": False}
    if USER_SCOPE not in str(claims.get("scope", "")).split():
        return denied
    user_id = claims.get("username")
    grant = grant_for(str(user_id)) if user_id else None
    if grant is None:
        return denied
    remaining = int(claims.get("exp", now)) - now
    if remaining <= 0:
        return denied
    return {"isAuthenticated": True, "principalId": principal_id(grant.user_id),
            "disconnectAfterInSeconds": min(MAX_SESSION_SECONDS, remaining),
            "refreshAfterInSeconds": REFRESH_SECONDS, "policyDocuments": policy_documents(grant)}

"""Who may subscribe to what on AWS IoT Core (docs/realtime.md): the custom authorizer's decision.

A user may connect with a client id of their own and receive only their inbox topic, their own user
target topic, and the topics of targets they can view. Everything else is denied by omission.
"""

import hashlib
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
# IoT Core accepts disconnectAfterInSeconds between 300 and 86400: a token with less than 300 s left connects for
# 300 s at most, and the refresh (every REFRESH_SECONDS) sees it expired and ends the connection then.
MIN_SESSION_SECONDS = 300
MAX_SESSION_SECONDS = 86400
TARGET_TYPES_FOR_SUPERUSERS = ("xform", "project", "kmskey", "entitylist")


@dataclass(frozen=True)
class Grant:
    user_id: str
    topics: list[str]          # exact topics; a superuser's also include `{base}/{type}/*` (IoT policy wildcard)


def principal_id(user_id: str) -> str:
    """IoT principal ids are [A-Za-z0-9]{1,128} and a client id is at most 128 bytes: "u" and the SHA-256 hex of
    the directory id (65 characters) is the same for one user and distinct for two, whatever their length, and
    leaves a client id room for its own suffix (`{principal}-web-xxxxxxxx`)."""
    return "u" + hashlib.sha256(user_id.encode()).hexdigest()


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


class TooManyTopics(Exception):
    """The grant does not fit IoT Core's policy limits: the connection is refused, never granted a part of it."""


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def _topic_statements(topics: list[str]) -> list[dict[str, Any]]:
    return [{"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [_arn("topicfilter", t) for t in topics]},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": [_arn("topic", t) for t in topics]}]


def policy_documents(grant: Grant) -> list[str]:
    """IoT policies (JSON strings) within IoT Core's limits (POLICY_MAX_DOCUMENTS of POLICY_MAX_CHARS each): one
    Subscribe and one Receive statement per document, listing as many topics as fit. Every topic of the grant is in
    them, or TooManyTopics is raised (about 100 targets fit; a superuser's grant is a few wildcards)."""
    client_ids = _arn("client", f"{principal_id(grant.user_id)}-*")
    connect = {"Effect": "Allow", "Action": "iot:Connect", "Resource": client_ids}
    documents: list[str] = []
    head: list[dict[str, Any]] = [connect]
    topics: list[str] = []
    for topic in grant.topics:
        if len(_document(head + _topic_statements([*topics, topic]))) > POLICY_MAX_CHARS and topics:
            documents.append(_document(head + _topic_statements(topics)))
            head, topics = [], []
        topics.append(topic)
    documents.append(_document(head + _topic_statements(topics)))
    if len(documents) > POLICY_MAX_DOCUMENTS or any(len(d) > POLICY_MAX_CHARS for d in documents):
        raise TooManyTopics(f"{len(grant.topics)} topics do not fit {POLICY_MAX_DOCUMENTS} IoT policies of "
                            f"{POLICY_MAX_CHARS} characters")
    return documents


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
    try:
        documents = policy_documents(grant)
    except TooManyTopics as reason:
        # Refused, not cut short: a client must not believe it receives a target it was silently left without.
        # The user still has their inbox over the API; docs/realtime.md says what to do.
        from postbox.observability import logger

        logger.warning("MQTT connect refused: the user's topics exceed IoT Core's policy limits",
                       extra={"user_id": grant.user_id, "reason": str(reason)})
        return denied
    return {"isAuthenticated": True, "principalId": principal_id(grant.user_id),
            "disconnectAfterInSeconds": max(MIN_SESSION_SECONDS, min(MAX_SESSION_SECONDS, remaining)),
            "refreshAfterInSeconds": REFRESH_SECONDS, "policyDocuments": documents}

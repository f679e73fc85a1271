"""GET /local/outbox (local only, never in template.yaml): the emails and SMS the channel function sent, as moto
recorded them, oldest first: `[{"channel": "email|sms", "to", "subject"?, "text", "source_id", "sent_at"}]`.

moto runs in this process (the local stack's server, or the tests' mock): its SES backend keeps every email sent
(`sent_messages`; raw MIME here, since the channel function sends SES v2 `Content.Raw`: the text part and the
`X-Postbox-Source` header are read back from it) and its SNS backend every SMS (`sms_messages`: number and text
only). The channel markers in the table (dal/channels.py) give each send's source id and time by the provider's
message id; a send whose marker was never confirmed shows `null` there.
"""

from email import message_from_string, policy
from email.utils import parsedate_to_datetime
from typing import Any

from postbox.dal import table
from postbox.dal.channels import MARKER_TYPE
from postbox.timefmt import iso
from postbox_local.state import ACCOUNT_ID, REGION


def entries() -> list[dict[str, Any]]:
    # moto's backends: the local stack runs moto in this process (the module is imported by its gateway route)
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    markers = _markers()
    found = [_email(message, markers.get(message.id) or {})
             for message in list(ses_backends[ACCOUNT_ID][REGION].sent_messages)]
    for message_id, (phone, text) in list(sns_backends[ACCOUNT_ID][REGION].sms_messages.items()):
        marker = markers.get(message_id) or {}
        found.append({"channel": "sms", "to": phone, "text": text, "source_id": marker.get("source_id"),
                      "sent_at": marker.get("sent_at")})
    return sorted(found, key=lambda entry: (entry["sent_at"] or "", entry["channel"], entry["to"]))


def _email(message: Any, marker: dict[str, Any]) -> dict[str, Any]:
    raw = getattr(message, "raw_data", None)
    if raw is None:  # a simple (not raw) SES send: moto keeps one body
        to = (getattr(message, "destinations", None) or {}).get("ToAddresses") or [""]
        return {"channel": "email", "to": to[0], "subject": message.subject, "text": message.body,
                "source_id": marker.get("source_id"), "sent_at": marker.get("sent_at")}
    parsed = message_from_string(raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    sent_at = marker.get("sent_at")
    if sent_at is None and parsed["Date"]:
        sent_at = iso(parsedate_to_datetime(str(parsed["Date"])))  # the marker's format, to the second
    return {"channel": "email", "to": str(parsed["To"] or ""), "subject": str(parsed["Subject"] or ""),
            "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
            "source_id": marker.get("source_id") or (str(parsed["X-Postbox-Source"] or "") or None),
            "sent_at": sent_at}


def _markers() -> dict[str, dict[str, Any]]:
    """Channel markers by provider message id (a Scan: this is a local debugging view, not a request path)."""
    found: dict[str, dict[str, Any]] = {}
    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression="#type = :marker", ExpressionAttributeNames={"#type": "type"},
        ExpressionAttributeValues={":marker": {"S": MARKER_TYPE}})
    for page in pages:
        for raw in page.get("Items", []):
            item = table.deserialize(raw)
            if item.get("provider_id"):
                found[item["provider_id"]] = item
    return found

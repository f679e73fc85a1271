"""Email and SMS channels (docs/channels.md): every new message, conversation, reply and alert also goes out by email
(SES) and SMS (SNS) to recipients who opted in (`notify_email`, `notify_sms`) and have an address.

Path. The publisher, already reading the table's stream, sees each inbox entry that is new and unread (an Ona
message's entry, an alert's copy, a DHIS2 participant row) or a participant row bumped by a newer message, and
each notify-only alert's receiver chunk; it puts one job per recipient on a standard SQS queue. The channel
function consumes the queue (partial batch failures; SQS retries a job a bounded number of times, then keeps it
in the dead-letter queue). A third stream reader was the alternative: DynamoDB Streams advises at most two per
shard (fan-out and publisher are two), and a slow or throttled SES or SNS would hold up the shard for everyone.

Who gets what is decided when the job runs, from current data: an active user who opted in, with an email
address / an E.164 phone number; never the sender of the item; an internal ticket note only for a ticket manager
(permissions.is_ticket_manager); nothing for an alert of an app (or message group) the user unfollowed, nor for
an Ona message an app sent if the user unfollowed that app's ungrouped alerts (per-app unfollow wins); nothing
for an item deleted meanwhile.

Exactly once per (recipient, source, channel, revision), as far as can be known. The revision is the entry's
`created_at` (a conversation's row: the time of the newest message it shows). Before a send the function claims
a marker with a conditional PutItem (dal/channels.py); after it, the marker records `sent`. Stream retries,
re-delivered SQS messages and redriven jobs find the marker and send nothing. Mark-then-send was chosen over
send-then-mark: send-then-mark sends twice when the function dies between the two steps. The price is the other
way round: if the function dies (or the answer is lost) after claiming, the marker stays `sending` and the
notification is not sent again — at most once in that rare case, logged and counted (ChannelSendUncertain).
A send the service certainly refused releases the claim and fails the job (throttling: SQS retries it later) or
records the refusal (other 4xx: final). botocore's own retries are off for these calls (a retried call could
deliver twice).
"""

import json
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.metrics import MetricUnit

from postbox.dal import alerts as alert_store
from postbox.dal import channels as markers
from postbox.dal import conversations as conversation_store
from postbox.dal import directory, keys
from postbox.dal import messages as message_store
from postbox.dal.table import Item, key_pair
from postbox.integrations import queues, ses, sns
from postbox.integrations.outbound import NotSent
from postbox.logic import notices, permissions
from postbox.logic.alert_content import render_alert
from postbox.logic.changes import Change
from postbox.logic.notices import Notice
from postbox.observability import logger, metrics
from postbox.settings import ChannelQueueSettings, ChannelSettings
from postbox.timefmt import iso, utcnow

ENTRY_KINDS = ("message", "conversation", "alert")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
LINK_KINDS = {"message": "message", "conversation": "conversation", "alert": "alert"}


class ChannelRetry(Exception):
    """A send the service refused for now (throttling, a quota): the job fails and SQS retries it."""


# -- jobs: from the publisher to the queue ---------------------------------------------------------------------


def job_for_entry(change: Change) -> dict[str, str] | None:
    """The job a change of an inbox entry calls for: a new unread entry, or an unread entry showing a newer
    message (a DHIS2 reply rewrites the participant rows). Read, archive and edit changes call for none."""
    entry = change.new
    if change.event == "REMOVE" or not entry or entry.get("type") != "inbox" or entry.get("read"):
        return None
    if entry.get("notify") is False:  # the fan-out saw no channel the user could be reached on
        return None
    if entry.get("kind") not in ENTRY_KINDS or not entry.get("user_id") or not entry.get("created_at"):
        return None
    if change.event == "MODIFY" and (change.old or {}).get("created_at") == entry["created_at"]:
        return None
    return {"kind": entry["kind"], "user_id": entry["user_id"], "source_id": entry["source_id"],
            "revision": entry["created_at"]}


def enqueue_for(change: Change, queue: queues.JobQueue) -> bool:
    """Called by the publisher for every inbox entry change; True when a job was queued."""
    job = job_for_entry(change)
    if job is None:
        return False
    queue_url = ChannelQueueSettings.get().CHANNEL_QUEUE_URL
    if not queue_url:
        logger.debug("CHANNEL_QUEUE_URL is empty: no email or SMS", extra={"job": job})
        return False
    queue.send(queue_url, json.dumps(job))
    return True


def jobs_for_transient(chunk: Item) -> list[dict[str, Any]]:
    """One job per receiver of a notify-only alert's chunk. The chunk is deleted once published, so each job
    carries what the email says."""
    notice = json.loads(chunk["notice"])
    content = notice.get("content")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    alert = {"id": notice["id"], "from": notice.get("from", ""), "text": text,
             "frontend_url": notice.get("frontend_url")}
    return [{"kind": "alert", "user_id": user_id, "source_id": notice["id"], "revision": chunk["created_at"],
             "alert": alert} for user_id in chunk.get("users", [])]


def enqueue_for_transient(chunk: Item, queue: queues.JobQueue) -> int:
    """Called by the publisher for a notify-only alert's receiver chunk; returns how many jobs were queued."""
    queue_url = ChannelQueueSettings.get().CHANNEL_QUEUE_URL
    jobs = jobs_for_transient(chunk)
    if not queue_url or not jobs:
        return 0
    queue.send_batch(queue_url, [json.dumps(job, ensure_ascii=False) for job in jobs])
    return len(jobs)


# -- delivery (the channel function) ---------------------------------------------------------------------------


def reachable(user: Item) -> bool:
    """Whether the user opted in to a channel and has its address. The fan-out notes it on the entries it writes
    (`notify`), so that the publisher queues no job for the many users without a channel; one who opts in later
    is notified of what arrives from then on."""
    return bool((user.get("notify_email") and EMAIL_RE.fullmatch(user.get("email") or "")) or
                (user.get("notify_sms") and E164_RE.fullmatch(user.get("phone") or "")))


def routes(user: Item | None) -> list[tuple[str, str]]:
    """(channel, address) for each channel the user opted in to and can be reached on."""
    if not user or not user.get("active", True):
        return []
    found = []
    email, phone = user.get("email") or "", user.get("phone") or ""
    if user.get("notify_email") and EMAIL_RE.fullmatch(email):
        if ChannelSettings.get().EMAIL_SENDER:
            found.append(("email", email))
        else:
            logger.warning("EMAIL_SENDER is not set: no email", extra={"user": user.get("id")})
    if user.get("notify_sms") and E164_RE.fullmatch(phone):
        found.append(("sms", phone))
    return found


def deliver(job: dict[str, Any]) -> dict[str, str]:
    """Send the job's email and SMS, each at most once; returns each channel's outcome (sent, duplicate,
    refused, uncertain). Raises ChannelRetry when a send should be tried again later (the others are kept)."""
    user = directory.get_user(job["user_id"])
    wanted = routes(user)
    if user is None or not wanted:
        return {}
    notice = notice_for(job, user)
    if notice is None:
        return {}
    outcomes: dict[str, str] = {}
    retry: list[str] = []
    for channel, address in wanted:
        try:
            outcomes[channel] = send_once(channel, address, job, notice)
        except ChannelRetry as error:
            retry.append(f"{channel}: {error}")
    if retry:
        raise ChannelRetry("; ".join(retry))
    return outcomes


def web_link(kind: str, source_id: str) -> str:
    base = ChannelSettings.get().WEB_URL
    return f"{base.rstrip('/')}/#/{LINK_KINDS[kind]}/{quote(source_id, safe='')}" if base else ""


def notice_for(job: dict[str, Any], user: Item) -> Notice | None:
    """What the user is told about the job's item; None when they are told nothing."""
    kind = job["kind"]
    if kind == "message":
        return _message_notice(job["source_id"], user)
    if kind == "conversation":
        return _conversation_notice(job["source_id"], job["revision"], user)
    if kind == "alert":
        return _alert_notice(job, user)
    logger.warning("unknown channel job", extra={"job": job})
    return None


def _message_notice(message_id: str, user: Item) -> Notice | None:
    message = message_store.get(message_id)
    if message is None:
        return None  # deleted meanwhile
    if message["sender_kind"] == "user" and message["sender_id"] == user["id"]:
        return None  # the sender gets nothing for their own message
    if message["sender_kind"] == "app" and _unfollowed_sender_app(user["id"], message["sender_id"]):
        return None
    target = message.get("target_name") or str(message["target_id"])
    sender = message.get("sender_name") or message["user"]
    return Notice("message", message_id, message["message"], web_link("message", message_id),
                  {"sender": sender, "target": target})


def _unfollowed_sender_app(user_id: str, client_id: str) -> bool:
    """An Ona message from an app the user unfollowed (its ungrouped alerts): per-app unfollow wins."""
    app = directory.get_many([directory.app_client_key(client_id)])
    app_id = next(iter(app.values()), {}).get("app_id")
    return alert_store.unfollows(user_id, app_id, "") if app_id else False


def _conversation_notice(conversation_id: str, revision: str, user: Item) -> Notice | None:
    found = conversation_store.load_for(conversation_id, user["id"])
    header = found.get(key_pair(conversation_store.header_key(conversation_id)))
    row = found.get(key_pair(conversation_store.participant_key(conversation_id, user["id"])))
    if header is None or row is None:
        return None  # deleted, or the user was removed from it
    shown = conversation_store.messages_at(conversation_id, revision)
    if not shown:
        return None
    message = shown[-1]
    if message.get("sender") == user["id"]:
        return None  # their own message
    if message.get("internal"):
        if not permissions.is_ticket_manager(user, permissions.feedback_group()):
            return None  # internal notes only ever reach ticket managers
        section = "note"
    else:
        section = "conversation" if message.get("created") == header.get("created") else "reply"
    sender = message.get("senderName") or "Postbox"
    return Notice(section, conversation_id, message["text"], web_link("conversation", conversation_id),
                  {"sender": sender, "subject": header.get("subject", "")})


def _alert_notice(job: dict[str, Any], user: Item) -> Notice | None:
    alert_id = job["source_id"]
    if "alert" in job:  # notify-only: the job carries it (receivers who unfollowed were left out when it was sent)
        alert = job["alert"]
        link = alert.get("frontend_url") or web_link("alert", alert_id)
    else:
        stored = alert_store.get_alert(alert_id)
        if stored is None:
            return None
        if alert_store.unfollows(user["id"], stored["app_id"], stored.get("msg_group") or ""):
            return None  # unfollowed after it was sent: per-app unfollow wins
        alert = {"from": stored["from"], "text": stored["text"]}
        link = render_alert(stored, isread=False)["frontend_url"] or web_link("alert", alert_id)
    return Notice("alert", alert_id, alert["text"], link,
                  {"sender": alert["from"], "summary": notices.summary(alert["text"])})


def send_once(channel: str, address: str, job: dict[str, Any], notice: Notice) -> str:
    """Claim the marker, send, confirm (see the module's docstring)."""
    settings = ChannelSettings.get()
    # Rendered before claiming: nothing between the claim and the send can fail but the send itself.
    email = notices.mime(settings.EMAIL_SENDER, address, notice.source_id, notices.email(notice)) \
        if channel == "email" else b""
    sms = notices.sms(notice) if channel == "sms" else ""
    key = keys.sent_key(job["user_id"], channel, notice.source_id, job["revision"])
    token = secrets.token_hex(16)
    now = utcnow()
    expires = int((now + timedelta(seconds=settings.CHANNEL_SENT_TTL_SECONDS)).timestamp())
    context = {"channel": channel, "user": job["user_id"], "source": notice.source_id, "revision": job["revision"]}
    if not markers.claim(key, token=token, channel=channel, source_id=notice.source_id, claimed_at=iso(now),
                         expires_at=expires):
        if (markers.get(key) or {}).get("state") == markers.SENDING:
            logger.warning("an earlier attempt stopped after claiming: not sending again", extra=context)
            metrics.add_metric(name="ChannelSendUncertain", unit=MetricUnit.Count, value=1)
        return "duplicate"
    try:
        if channel == "email":
            provider_id = ses.send_raw(settings.EMAIL_SENDER, address, email)
        else:
            provider_id = sns.send_sms(address, sms, sender_id=settings.SMS_SENDER_ID)
    except NotSent as refused:
        if refused.retryable:
            markers.release(key, token)
            raise ChannelRetry(str(refused)) from None
        markers.settle(key, token, markers.REFUSED, reason=str(refused)[:500])
        logger.warning("the service refused the notification", extra={**context, "reason": str(refused)})
        return "refused"
    except Exception as error:  # a 5xx, a timeout after the request went out: it may have been sent
        logger.error("notification outcome unknown: not sending again", extra={**context, "error": repr(error)})
        metrics.add_metric(name="ChannelSendUncertain", unit=MetricUnit.Count, value=1)
        return "uncertain"
    try:
        markers.settle(key, token, markers.SENT, provider_id=provider_id, sent_at=iso(utcnow()))
    except Exception:  # it went out; the claim alone already stops a second send
        logger.exception("could not record a sent notification", extra=context)
    metrics.add_metric(name="EmailsSent" if channel == "email" else "SmsSent", unit=MetricUnit.Count, value=1)
    return "sent"
